// JWT_SECRET is required in production; elsewhere one is generated once and kept in DATA_DIR
// so tokens survive restarts and every api process of one machine agrees.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../shared/config.js';

export async function resolveJwtSecret(config: Config): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  await fs.mkdir(config.dataDir, { recursive: true });
  // Written aside, then linked into place: the file appears with its content or not at all, so
  // api processes starting together (API_PROCESSES > 1) never read it empty.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await fs.writeFile(draft, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  try {
    await fs.link(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.unlink(draft);
  }
  const secret = (await fs.readFile(file, 'utf8')).trim();
  if (secret.length < 32) throw new Error(`${file} holds no usable secret: delete it to generate a new one`);
  return secret;
}
