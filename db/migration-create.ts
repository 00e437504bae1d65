// `npm run migration:create -- <name>`: writes a timestamped migration file and lists it in index.ts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  process.stderr.write('usage: npm run migration:create -- <snake_case_name>\n');
  process.exit(64);
}
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const id = `${stamp.slice(0, 8)}_${stamp.slice(8)}_${name}`;
await fs.writeFile(path.join(dir, `${id}.ts`), `import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql\`\`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql\`\`.execute(db);
}
`);
const indexFile = path.join(dir, 'index.ts');
let index = await fs.readFile(indexFile, 'utf8');
const alias = `m${stamp}`;
index = index.replace(/(import \* as [^\n]+\n)(?![\s\S]*import \* as)/, `$1import * as ${alias} from './${id}.js';\n`);
index = index.replace(/\n};\s*$/, `\n  '${id}': ${alias},\n};\n`);
await fs.writeFile(indexFile, index);
process.stdout.write(`created db/migrations/${id}.ts\n`);
