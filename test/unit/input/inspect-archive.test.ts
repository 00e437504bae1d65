import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { buildZip } from '../../../shared/archive/build-zip.js';
import { sha256 } from '../../../shared/archive/hash.js';
import { inspectArchive, LOG_ROW_BYTES, logBytesLimit, looksLikeZip, uploadLimits, type ArchiveLimits } from '../../../shared/archive/inspect-archive.js';
import { envToConfig } from '../../../shared/config.js';
import { CHANNEL_UPLOADS } from '../../../channels/registry.js';
import type { ChannelName } from '../../../shared/protocol/channels.js';
import { DEVICE_XML, VALID_ATTENDANCES_CSV } from '../../../fixtures/fixture-data.js';
import { localRecord, rawZip, type RawEntry } from '../../../fixtures/raw-zip.js';
import { TEST_LIMITS, fixture, problemOf } from './helpers.js';

const synchro = (bytes: Buffer, limits: ArchiveLimits = TEST_LIMITS) =>
  inspectArchive(bytes, { channel: CHANNEL_UPLOADS.synchro, required: ['device.xml'], limits });

const on = (channel: ChannelName, bytes: Buffer, limits: ArchiveLimits = TEST_LIMITS) =>
  inspectArchive(bytes, { channel: CHANNEL_UPLOADS[channel], required: ['device.xml'], limits });

const device: RawEntry = { name: 'device.xml', data: DEVICE_XML };

describe('inspectArchive on the committed fixtures', () => {
  const refused: [string, string][] = [
    ['not-a-zip.zip', 'archive_corrupt'],
    ['truncated.zip', 'archive_corrupt'],
    ['overlapping.zip', 'archive_corrupt'],
    ['encrypted.zip', 'archive_encrypted'],
    ['too-many-entries.zip', 'archive_too_many_entries'],
    ['bomb.zip', 'archive_suspicious_ratio'],
    ['traversal.zip', 'entry_name_invalid'],
    ['absolute.zip', 'entry_name_invalid'],
    ['symlink.zip', 'entry_name_invalid'],
    ['directory-entry.zip', 'entry_name_invalid'],
    ['unknown-entry.zip', 'entry_name_invalid'],
    ['duplicate.zip', 'entry_duplicate'],
    ['missing-device-xml.zip', 'required_file_missing'],
  ];
  if (readdirSync(new URL('../../../fixtures/archives/', import.meta.url)).includes('encrypted-zipcrypto.zip')) {
    refused.push(['encrypted-zipcrypto.zip', 'archive_encrypted']);
  }

  it.each(refused)('%s is refused with %s', (file, code) => {
    const problem = problemOf(() => synchro(fixture(file)));
    expect(problem.code).toBe(code);
    expect(problem.status).toBe(400);
  });

  it.each([
    ['valid-small.zip', ['device.xml', 'attendances.csv']],
    ['valid-with-settings.zip', ['device.xml', 'settings.xml', 'attendances.csv']],
    ['bad-row-codes.zip', ['device.xml', 'attendances.csv']],
    ['crlf-bom-quoted.zip', ['device.xml', 'attendances.csv']],
    ['python-zipfile.zip', ['device.xml', 'attendances.csv']],
    ['python-streamed.zip', ['device.xml', 'attendances.csv']],
  ])('%s is accepted and every entry reads back', (file, names) => {
    const contents = synchro(fixture(file));
    expect(contents.names).toEqual(names);
    for (const name of names) {
      expect(contents.read(name).length).toBe(contents.entries.find((e) => e.name === name)!.size);
    }
  });

  it('reads exactly the bytes that were zipped, from our zips and from Python and Info-ZIP', () => {
    for (const file of ['valid-small.zip', 'python-zipfile.zip', 'python-streamed.zip', 'info-zip.zip']) {
      let contents;
      try {
        contents = synchro(fixture(file));
      } catch (err) {
        if (file === 'info-zip.zip' && (err as NodeJS.ErrnoException).code === 'ENOENT') continue; // zip not installed
        throw err;
      }
      expect(contents.read('device.xml').toString('utf8')).toBe(DEVICE_XML);
      expect(contents.read('attendances.csv').toString('utf8')).toBe(VALID_ATTENDANCES_CSV);
    }
  });

  it('released, it still names its entries but reads none of them', () => {
    const contents = synchro(fixture('valid-small.zip'));
    const entries = contents.entries;
    contents.release();
    expect(contents.names).toEqual(['device.xml', 'attendances.csv']);
    expect(contents.entries).toEqual(entries);
    expect(() => contents.read('device.xml')).toThrow(/released/);
    expect(() => contents.stream('attendances.csv')).toThrow(/released/);
  });

  it('names the missing files in the problem body', () => {
    const problem = problemOf(() => synchro(fixture('missing-device-xml.zip')));
    expect(problem.extra).toEqual({ files: ['device.xml'] });
    expect(problem.toJSON()).toMatchObject({ code: 'required_file_missing', files: ['device.xml'] });
  });

  it('names the offending entry in the detail', () => {
    expect(problemOf(() => synchro(fixture('traversal.zip'))).detail).toContain('"../evil.csv"');
    expect(problemOf(() => synchro(fixture('symlink.zip'))).detail).toMatch(/"attendances.csv" is a symbolic link/);
    expect(problemOf(() => synchro(fixture('duplicate.zip'))).detail).toContain('"attendances.csv"');
  });

  it('accepts lying-size.zip and bad-crc.zip from their headers but refuses to read their data', () => {
    for (const file of ['lying-size.zip', 'bad-crc.zip']) {
      const contents = synchro(fixture(file));
      expect(contents.read('device.xml').toString()).toBe(DEVICE_XML);
      const problem = problemOf(() => contents.read('attendances.csv'));
      expect(problem.code).toBe('archive_corrupt');
    }
  });
});

describe('looksLikeZip', () => {
  it.each([
    ['a zip', buildZip([{ name: 'a', data: 'x' }]), true],
    ['an empty zip (end record only)', Buffer.from('504b0506' + '00'.repeat(18), 'hex'), true],
    ['text', Buffer.from('hello world'), false],
    ['three bytes', Buffer.from('PK\u0003'), false],
    ['nothing', Buffer.alloc(0), false],
    ['a PNG', Buffer.from('89504e470d0a1a0a', 'hex'), false],
  ])('%s → %s', (_label, bytes, expected) => {
    expect(looksLikeZip(bytes)).toBe(expected);
  });
});

describe('inspectArchive entry names', () => {
  it.each([
    ['C:\\evil.csv', 'a drive letter'],
    ['C:/evil.csv', 'a drive letter with a slash'],
    ['\\evil.csv', 'a leading backslash'],
    ['sub\\attendances.csv', 'a backslash'],
    ['./device2.xml', 'a "." segment'],
    ['photos/../device.xml', 'a ".." inside the path'],
    ['photos//p1.jpg', 'an empty segment'],
    ['attendances.csv\u0000.jpg', 'a NUL byte'],
    ['Attendances.csv', 'another case'],
    ['attendances.csv ', 'a trailing space'],
    ['readings.csv', 'a file of another channel'],
  ])('refuses %j (%s)', (name) => {
    const problem = problemOf(() => synchro(rawZip([device, { name, data: 'x' }])));
    expect(problem.code).toBe('entry_name_invalid');
  });

  it('refuses a name that is not UTF-8', () => {
    const problem = problemOf(() => synchro(rawZip([device, { name: Buffer.from([0x61, 0xff, 0x2e, 0x63, 0x73, 0x76]), data: 'x' }])));
    expect(problem.code).toBe('entry_name_invalid');
  });

  it('refuses a directory flagged only by its MS-DOS attribute', () => {
    const problem = problemOf(() => on('photos', rawZip([device, { name: 'photos/p1.jpg', data: '', method: 0, dosAttr: 0x10 }])));
    expect(problem.code).toBe('entry_name_invalid');
    expect(problem.detail).toContain('directory');
  });

  it('accepts photos/<name> on photos only', () => {
    const bytes = rawZip([device, { name: 'photos/p0001.jpg', data: 'jpeg', method: 0 }]);
    expect(on('photos', bytes).names).toEqual(['device.xml', 'photos/p0001.jpg']);
    expect(problemOf(() => synchro(bytes)).code).toBe('entry_name_invalid');
    expect(problemOf(() => on('photos', rawZip([device, { name: 'photos/..', data: 'x', method: 0 }]))).code).toBe('entry_name_invalid');
  });

  it.each([
    ['sondes', 'readings.csv'],
    ['messagerie', 'messages.csv'],
  ] as const)('accepts %s files on %s', (channel, file) => {
    expect(on(channel, rawZip([device, { name: file, data: 'x' }])).names).toEqual(['device.xml', file]);
  });
});

describe('inspectArchive order and limits', () => {
  it('checks encryption before the entry count, and the count before names', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `../x${i}`, data: 'x', method: 0 }));
    expect(problemOf(() => synchro(rawZip([device, ...many, { name: 'a.csv', data: 'x', flags: 1 }]))).code).toBe('archive_encrypted');
    expect(problemOf(() => synchro(rawZip([device, ...many]))).code).toBe('archive_too_many_entries');
  });

  it('checks sizes before the ratio, the ratio before names, names before required files', () => {
    const big = { name: '../big', data: Buffer.alloc(2 << 20) };
    expect(problemOf(() => synchro(rawZip([big]), { ...TEST_LIMITS, maxEntryUncompressed: 1 << 20 })).code).toBe('archive_too_large_uncompressed');
    expect(problemOf(() => synchro(rawZip([big]))).code).toBe('archive_suspicious_ratio');
    expect(problemOf(() => synchro(rawZip([{ name: '../small', data: 'x' }]))).code).toBe('entry_name_invalid');
  });

  it('counts entries against maxEntries inclusively', () => {
    const entries = Array.from({ length: 4 }, (_, i) => ({ name: `photos/p${i}.jpg`, data: 'x', method: 0 }));
    expect(on('photos', rawZip([device, ...entries]), { ...TEST_LIMITS, maxEntries: 5 }).names).toHaveLength(5);
    expect(problemOf(() => on('photos', rawZip([device, ...entries]), { ...TEST_LIMITS, maxEntries: 4 })).code).toBe('archive_too_many_entries');
  });

  it('caps one entry and the sum of declared sizes, from the headers alone', () => {
    const limits = { ...TEST_LIMITS, maxEntryUncompressed: 1000, maxTotalUncompressed: 1500 };
    const entry = (name: string, size: number) => ({ name, data: 'x'.repeat(size) });
    expect(synchro(rawZip([entry('device.xml', 1000), entry('settings.xml', 500)]), limits).names).toHaveLength(2);
    expect(problemOf(() => synchro(rawZip([entry('device.xml', 1001)]), limits)).code).toBe('archive_too_large_uncompressed');
    expect(problemOf(() => synchro(rawZip([entry('device.xml', 1000), entry('settings.xml', 501)]), limits)).code).toBe('archive_too_large_uncompressed');
    // A header declaring 4 GB is refused without inflating anything (CVE-2026-39244's shape).
    const liar = rawZip([{ name: 'device.xml', data: DEVICE_XML, declaredSize: 0xffffffff }]);
    expect(problemOf(() => synchro(liar)).code).toBe('archive_too_large_uncompressed');
  });

  it('with maxLogRows, refuses a CSV log declaring more than maxLogRows × LOG_ROW_BYTES bytes, naming it and the limit', () => {
    const limits = { ...TEST_LIMITS, maxLogRows: 10 };
    const log = (name: string, size: number) => ({ name, data: 'x'.repeat(size), method: 0 });
    expect(synchro(rawZip([device, log('attendances.csv', 10 * LOG_ROW_BYTES)]), limits).names).toHaveLength(2);
    const err = problemOf(() => synchro(rawZip([device, log('attendances.csv', 10 * LOG_ROW_BYTES + 1)]), limits));
    expect(err.code).toBe('archive_too_large_uncompressed');
    expect(err.extra).toEqual({ entry: 'attendances.csv', max_rows: 10 });
    expect(problemOf(() => on('sondes', rawZip([device, log('readings.csv', 10 * LOG_ROW_BYTES + 1)]), limits)).extra).toEqual({ entry: 'readings.csv', max_rows: 10 });
    // Only CSV logs are judged by rows; without maxLogRows (the worker's reading), none.
    expect(synchro(rawZip([device, log('settings.xml', 10 * LOG_ROW_BYTES + 1)]), limits).names).toHaveLength(2);
    expect(synchro(rawZip([device, log('attendances.csv', 10 * LOG_ROW_BYTES + 1)])).names).toHaveLength(2);
    expect(uploadLimits(envToConfig({ BATCH_MAX_ROWS: '10' }))).toMatchObject({ maxLogRows: 10 });
    expect(logBytesLimit(1_000_000)).toBe(256_000_000);
  });

  it('applies the ratio only from ratioMinBytes on, and treats a 0-byte compressed size as infinite', () => {
    const zeros = (n: number) => ({ name: 'attendances.csv', data: Buffer.alloc(n, 0x30) });
    const strict = { ...TEST_LIMITS, maxRatio: 50 };
    expect(synchro(rawZip([device, zeros(4000)]), strict).names).toHaveLength(2);
    expect(problemOf(() => synchro(rawZip([device, zeros(4000)]), { ...strict, ratioMinBytes: 1000 })).code).toBe('archive_suspicious_ratio');
    const empty = rawZip([device, { name: 'attendances.csv', data: '', rawPayload: Buffer.alloc(0), declaredSize: 5000 }]);
    expect(problemOf(() => synchro(empty)).code).toBe('archive_suspicious_ratio');
  });

  it('refuses limits that are zero, negative or not numbers rather than reading them as "no limit"', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => synchro(fixture('valid-small.zip'), { ...TEST_LIMITS, maxRatio: bad })).toThrow(TypeError);
    }
  });
});

describe('inspectArchive structure', () => {
  it('refuses the WinZip AES method as encrypted', () => {
    expect(problemOf(() => synchro(rawZip([device, { name: 'attendances.csv', data: 'x', method: 99 }]))).code).toBe('archive_encrypted');
  });

  it('refuses an unknown compression method as corrupt', () => {
    expect(problemOf(() => synchro(rawZip([device, { name: 'attendances.csv', data: 'x', method: 12 }]))).code).toBe('archive_corrupt');
  });

  it('refuses a stored entry whose sizes disagree', () => {
    const problem = problemOf(() => synchro(rawZip([device, { name: 'attendances.csv', data: 'abc', method: 0, declaredSize: 2 }])));
    expect(problem.code).toBe('archive_corrupt');
  });

  it('refuses a local header whose name differs from the central directory', () => {
    const problem = problemOf(() => synchro(rawZip([device, { name: 'attendances.csv', localName: '../evil.csv', data: 'x' }])));
    expect(problem.code).toBe('archive_corrupt');
  });

  it('refuses a central record pointing into another entry', () => {
    const inner: RawEntry = { name: 'attendances.csv', data: VALID_ATTENDANCES_CSV };
    const bytes = rawZip([{ name: 'device.xml', data: localRecord(inner), method: 0 }], { extraCentral: [{ entry: inner, offset: 40 }] });
    expect(problemOf(() => synchro(bytes)).detail).toMatch(/overlap/);
  });

  it('refuses a central record pointing past the end of the upload', () => {
    const bytes = rawZip([device], { extraCentral: [{ entry: { name: 'settings.xml', data: 'x' }, offset: 1 << 20 }] });
    expect(problemOf(() => synchro(bytes)).code).toBe('archive_corrupt');
  });

  it('maps adm-zip duplicate detection to entry_duplicate and names this archive\'s entry', () => {
    // adm-zip's message templates keep the first name they ever held: the name must not come from them.
    const first = problemOf(() => synchro(rawZip([device, { name: 'settings.xml', data: 'a' }, { name: 'settings.xml', data: 'b' }])));
    const second = problemOf(() => synchro(rawZip([device, device])));
    expect(first.code).toBe('entry_duplicate');
    expect(first.extra).toEqual({ entry: 'settings.xml' });
    expect(second.code).toBe('entry_duplicate');
    expect(second.extra).toEqual({ entry: 'device.xml' });
    expect(second.detail).toContain('"device.xml"');
  });

  it('never repeats a name from an earlier upload in a read error', () => {
    const bad = (name: string) => rawZip([device, { name, data: 'x'.repeat(50), crc: 1 }]);
    problemOf(() => on('photos', bad('photos/secret-of-another-device.jpg')).read('photos/secret-of-another-device.jpg'));
    const problem = problemOf(() => on('photos', bad('photos/mine.jpg')).read('photos/mine.jpg'));
    expect(problem.code).toBe('archive_corrupt');
    expect(problem.detail!.match(/"[^"]*"/g)).toEqual(['"photos/mine.jpg"']);
  });

  it('accepts an empty archive only as far as required files go', () => {
    const empty = Buffer.from('504b0506' + '00'.repeat(18), 'hex');
    expect(problemOf(() => synchro(empty)).code).toBe('required_file_missing');
    expect(inspectArchive(empty, { channel: CHANNEL_UPLOADS.synchro, required: [], limits: TEST_LIMITS }).names).toEqual([]);
  });
});

describe('ArchiveContents.read', () => {
  it('refuses data that inflates to less than declared', () => {
    const short = rawZip([{ name: 'device.xml', data: DEVICE_XML, declaredSize: DEVICE_XML.length + 10 }]);
    const contents = synchro(short);
    const problem = problemOf(() => contents.read('device.xml'));
    expect(problem.code).toBe('archive_corrupt');
  });

  it('refuses data that is not a deflate stream', () => {
    const bytes = rawZip([device, { name: 'attendances.csv', data: Buffer.from('not deflate at all'), method: 0 }]);
    // Rewrite the method of the stored entry to "deflated" in both headers so its bytes are inflated.
    const fake = Buffer.from(bytes);
    for (let i = 0; i < fake.length - 4; i++) {
      const sig = fake.readUInt32LE(i);
      if (sig === 0x04034b50 && fake.toString('utf8', i + 30, i + 45) === 'attendances.csv') fake.writeUInt16LE(8, i + 8);
      if (sig === 0x02014b50 && fake.toString('utf8', i + 46, i + 61) === 'attendances.csv') fake.writeUInt16LE(8, i + 10);
    }
    const contents = synchro(fake);
    expect(problemOf(() => contents.read('attendances.csv')).code).toBe('archive_corrupt');
  });

  it('throws a plain error for a name that is not in the archive, without path normalisation', () => {
    const contents = synchro(fixture('valid-small.zip'));
    expect(() => contents.read('settings.xml')).toThrow(/No entry named/);
    expect(() => contents.read('x/../device.xml')).toThrow(/No entry named/);
  });

  it('reads an empty entry as an empty buffer', () => {
    const contents = synchro(buildZip([{ name: 'device.xml', data: '' }]));
    expect(contents.read('device.xml')).toEqual(Buffer.alloc(0));
  });
});

async function drain(contents: { stream(name: string): AsyncIterable<Buffer> }, name: string): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of contents.stream(name)) chunks.push(chunk);
  return chunks;
}
async function streamProblem(contents: { stream(name: string): AsyncIterable<Buffer> }, name: string) {
  try {
    await drain(contents, name);
  } catch (err) {
    return problemOf(() => { throw err; });
  }
  throw new Error('the stream did not fail');
}

describe('ArchiveContents.stream', () => {
  it('yields exactly the bytes read() gives, for deflated and stored entries from every zipper', () => {
    return Promise.all(['valid-small.zip', 'valid-with-settings.zip', 'python-zipfile.zip', 'python-streamed.zip', 'crlf-bom-quoted.zip'].map(async (file) => {
      const contents = synchro(fixture(file));
      for (const name of contents.names) expect(Buffer.concat(await drain(contents, name))).toEqual(contents.read(name));
    }));
  });

  it('inflates a large entry piece by piece instead of all at once', async () => {
    const csv = 'record_id,user_id,type,occurred_at\n' + Array.from({ length: 200_000 }, (_, i) => `${i + 1},${(i % 500) + 1},checkin,2025-03-03T08:00:00+01:00\n`).join('');
    const contents = synchro(buildZip([{ name: 'device.xml', data: DEVICE_XML }, { name: 'attendances.csv', data: csv }]));
    const chunks = await drain(contents, 'attendances.csv');
    expect(Buffer.concat(chunks).toString('utf8')).toBe(csv);
    expect(chunks.length).toBeGreaterThan(50);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(256 * 1024);
  });

  it('fails with archive_corrupt on a bad CRC, a lying size or data that is not deflate', async () => {
    for (const file of ['lying-size.zip', 'bad-crc.zip']) {
      expect((await streamProblem(synchro(fixture(file)), 'attendances.csv')).code).toBe('archive_corrupt');
    }
    const short = synchro(rawZip([{ name: 'device.xml', data: DEVICE_XML, declaredSize: DEVICE_XML.length + 10 }]));
    expect((await streamProblem(short, 'device.xml')).detail).toMatch(/declares/);
    const long = synchro(rawZip([{ name: 'device.xml', data: DEVICE_XML, declaredSize: 10 }]));
    expect((await streamProblem(long, 'device.xml')).detail).toMatch(/more than the 10 bytes/);
  });
});

describe('buildZip', () => {
  it('round-trips through inspectArchive, in order, deterministically', () => {
    const files = [
      { name: 'instructions.xml', data: '<instructions/>' },
      { name: 'roster.csv', data: Buffer.from('user_id,name\r\n1,An\r\n') },
    ];
    const a = buildZip(files);
    expect(buildZip(files).equals(a)).toBe(true);
    const contents = inspectArchive(a, {
      channel: { name: 'synchro', xmlFiles: ['instructions.xml'], csvLogs: ['roster.csv'] },
      required: [],
      limits: TEST_LIMITS,
    });
    expect(contents.names).toEqual(['instructions.xml', 'roster.csv']);
    expect(contents.read('roster.csv').toString()).toBe('user_id,name\r\n1,An\r\n');
  });

  it('writes the given modification time', () => {
    const a = buildZip([{ name: 'a', data: 'x' }], { mtime: new Date('2026-11-20T08:00:00Z') });
    const b = buildZip([{ name: 'a', data: 'x' }], { mtime: new Date('2026-11-21T08:00:00Z') });
    expect(a.equals(b)).toBe(false);
  });

  it.each(['../a', '/a', 'a/../b', 'a\\b', '', 'a/'])('refuses the entry name %j', (name) => {
    expect(() => buildZip([{ name, data: 'x' }])).toThrow(/unsafe entry name/);
  });

  it('refuses a name given twice', () => {
    expect(() => buildZip([{ name: 'a', data: 'x' }, { name: 'a', data: 'y' }])).toThrow(/twice/);
  });
});

describe('sha256', () => {
  it('hashes to lower-case hex', () => {
    expect(sha256(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256('abc')).toBe(sha256(Buffer.from('abc')));
  });
});
