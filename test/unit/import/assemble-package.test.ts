// The instruction package of an imported batch, put together without a database: what the
// device reads in instructions.xml and the files beside it.
import { describe, expect, it } from '@jest/globals';
import AdmZip from 'adm-zip';
import { emptyParts } from '../../../channels/kit/context.js';
import { CLOCK_REPORT_SKEW_SECONDS } from '../../../shared/protocol/codes.js';
import { assemblePackage, packageZip } from '../../../worker/import/assemble-package.js';

const SESSION = '6f1c2a4e-0d7b-4f43-9a51-2c8e7d3b9f10';
const NOW = new Date('2026-11-20T08:00:03Z');

function partsOfABatch() {
  const out = emptyParts();
  out.imports.set('attendances.csv', { received: 120, accepted: 115, duplicates: 3, rejected: 2, high_water_mark: 1234 });
  out.rejections.push({ file: 'attendances.csv', line: 78, recordId: 77, code: 'temperature_out_of_range' });
  out.roster = { version: 42, mode: 'delta', file: 'roster.csv' };
  out.files.push({ name: 'roster.csv', data: Buffer.from('user_id,name,badge,active\r\n') });
  out.flags.push({ id: 17, name: 'FULL_RESYNC' });
  return out;
}

describe('assemblePackage', () => {
  it('reports each file imported with its counts and high-water mark, and what the importer added', () => {
    const pkg = assemblePackage({ sessionId: SESSION, now: NOW, skewSeconds: null, out: partsOfABatch() });
    expect(pkg).toMatchObject({
      sessionId: SESSION,
      generatedAt: NOW,
      imports: [{ file: 'attendances.csv', received: 120, accepted: 115, duplicates: 3, rejected: 2, highWaterMark: 1234 }],
      rejections: [{ file: 'attendances.csv', line: 78, recordId: 77, code: 'temperature_out_of_range' }],
      roster: { version: 42, mode: 'delta', file: 'roster.csv' },
      flags: [{ id: 17, name: 'FULL_RESYNC' }],
      clock: null,
    });
  });

  it('tells the device its clock only when the skew is past the reporting threshold', () => {
    const at = (skewSeconds: number | null) => assemblePackage({ sessionId: SESSION, now: NOW, skewSeconds, out: emptyParts() }).clock;
    expect(at(CLOCK_REPORT_SKEW_SECONDS)).toBeNull();
    expect(at(-CLOCK_REPORT_SKEW_SECONDS)).toBeNull();
    expect(at(CLOCK_REPORT_SKEW_SECONDS + 1)).toEqual({ serverTime: NOW, skewSeconds: CLOCK_REPORT_SKEW_SECONDS + 1 });
    expect(at(-340)).toEqual({ serverTime: NOW, skewSeconds: -340 });
    expect(at(null)).toBeNull();
  });

  it('zips instructions.xml first, then the files the importer added', async () => {
    const out = partsOfABatch();
    const zip = new AdmZip(await packageZip(assemblePackage({ sessionId: SESSION, now: NOW, skewSeconds: -340, out }), out));
    expect(zip.getEntries().map((e) => e.entryName)).toEqual(['instructions.xml', 'roster.csv']);
    const xml = zip.readAsText('instructions.xml');
    expect(xml).toContain(`<instructions session_id="${SESSION}" generated_at="2026-11-20T08:00:03Z">`);
    expect(xml).toContain('<import file="attendances.csv" received="120" accepted="115" duplicates="3" rejected="2" high_water_mark="1234"/>');
    expect(xml).toContain('<roster version="42" mode="delta" file="roster.csv"/>');
    expect(xml).toContain('skew_seconds="-340"');
  });

  it('writes the rejections read back from the table as they come: the same instructions.xml and files as with them held', async () => {
    const rejections = Array.from({ length: 25_000 }, (_, i) => ({ file: 'attendances.csv', line: i + 2, recordId: i % 7 === 0 ? null : i + 1, code: 'unknown_user' as const }));
    const held = partsOfABatch();
    held.rejections = rejections;
    const spilled = partsOfABatch();
    spilled.rejections = [];
    spilled.rejectionsSpilled = true;
    async function* pages() {
      for (let i = 0; i < rejections.length; i += 10_000) yield rejections.slice(i, i + 10_000);
    }
    const whole = new AdmZip(await packageZip(assemblePackage({ sessionId: SESSION, now: NOW, skewSeconds: -340, out: held }), held));
    const streamed = new AdmZip(await packageZip(assemblePackage({ sessionId: SESSION, now: NOW, skewSeconds: -340, out: spilled }), spilled, pages()));
    expect(streamed.getEntries().map((e) => e.entryName)).toEqual(['instructions.xml', 'roster.csv']);
    expect(streamed.readAsText('instructions.xml')).toBe(whole.readAsText('instructions.xml'));
    expect(streamed.readFile('roster.csv')).toEqual(whole.readFile('roster.csv'));
    const xml = streamed.readAsText('instructions.xml');
    expect(xml.match(/<rejection /g)).toHaveLength(25_000);
    expect(xml).toContain('<rejection file="attendances.csv" line="25001" record_id="25000" code="unknown_user"/>');
  });
});
