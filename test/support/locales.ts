// What web/build.ts makes of `import all from 'virtual:locales'` for the browser, for tests that
// load dashboard modules in node (jest.config.js maps the name here): every file in
// web/src/locales.
import fs from 'node:fs';
import path from 'node:path';
import type { Locale } from '../../web/src/i18n.js';

const dir = path.join(process.cwd(), 'web/src/locales');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
const locales: Locale[] = await Promise.all(files.map(async (f) => ((await import(path.join(dir, f))) as { default: Locale }).default));
export default locales;
