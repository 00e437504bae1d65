// The message catalogues (web/src/locales): every language has every sentence of English, the
// type checker's rule made visible for keys inside records (tab titles, flag labels, errors),
// and the plural forms agree with their number in each language.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { setFormatLocale } from '../../web/src/intl.js';

const dir = path.join(process.cwd(), 'web/src/locales');
type Catalogue = { code: string; name: string; messages: Record<string, unknown> };
const load = async (file: string) => ((await import(path.join(dir, file))) as { default: Catalogue }).default;

/** Every key path of a catalogue, nested records included. */
function keys(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k)).sort();
}

describe('the dashboard message catalogues', () => {
  test('every language file has exactly the keys of English, and says its own name', async () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining(['en.ts', 'fr.ts']));
    const en = await load('en.ts');
    for (const file of files) {
      const other = await load(file);
      expect(other.code).toBe(path.basename(file, '.ts'));
      expect(other.name.length).toBeGreaterThan(1);
      expect(keys(other.messages)).toEqual(keys(en.messages));
    }
  });

  test('plural forms follow the number in English and French', async () => {
    const en = (await load('en.ts')).messages as { devicesSummary(n: number, a: number): string; mayChange(w: number, t: number, d: number): string };
    const fr = (await load('fr.ts')).messages as typeof en;
    setFormatLocale('en-GB');
    expect(en.devicesSummary(1, 0)).toBe('1 device; 0 need attention.');
    expect(en.devicesSummary(1200, 1)).toBe('1,200 devices; 1 needs attention.');
    setFormatLocale('fr-FR');
    expect(fr.mayChange(1, 7, 2)).toBe('1 chiffre sur 7 peut encore changer\u00a0: en attente de 2 appareils.');
    expect(fr.mayChange(3, 7, 1)).toBe('3 chiffres sur 7 peuvent encore changer\u00a0: en attente d’un appareil.');
    expect(fr.devicesSummary(1200, 0).replace(/\s/g, ' ')).toBe('1 200 appareils ; 0 à surveiller.');
  });
});
