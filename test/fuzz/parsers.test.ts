// Fuzzing the readers of device input (issue 33 §7): the archive reader, the XML files, the CSV
// logs and their row checks, and every PUSH body parser, fed random and mutated input. Each may
// only answer with its protocol's error (a Problem, a FileError, a row code); any other
// exception, or a hang (jest's timeout), fails. Inputs that once broke something are kept as
// fixed examples, tried first on every run.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { CHANNEL_UPLOADS } from '../../channels/registry.js';
import { inspectArchive } from '../../shared/archive/inspect-archive.js';
import { ATTENDANCE_COLUMNS, validateAttendanceRow } from '../../shared/csv/attendance-row.js';
import { readCsvLog } from '../../shared/csv/read-csv-log.js';
import { Problem } from '../../shared/errors.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import {
  parseAttlogLine, parseCommandResults, parseOperlogLine, parseOptions, parseRtlogLine, wallClockToInstant,
} from '../../shared/protocol/push.js';
import { parseDeviceXml } from '../../shared/xml/device-xml.js';
import { parseSettingsXml } from '../../shared/xml/settings-xml.js';
import { TEST_LIMITS } from '../unit/input/helpers.js';
import { params, runs } from './runs.js';

const receivedAt = new Date('2026-11-23T08:00:00Z');
const FIXTURES = path.resolve('fixtures/archives');
const ZIPS = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.zip')).map((f) => fs.readFileSync(path.join(FIXTURES, f)));

/** The only ways a reader of device input may fail. */
function expected(err: unknown): boolean {
  return err instanceof Problem || isFileError(err);
}

/** A valid archive with a few bytes changed, cut short or lengthened: what a flaky link or an attacker sends. */
const mutatedZip = fc.record({
  zip: fc.constantFrom(...ZIPS),
  edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
  cut: fc.option(fc.nat(), { nil: null }),
}).map(({ zip, edits, cut }) => {
  const bytes = Buffer.from(zip);
  for (const e of edits) bytes[e.at % bytes.length] = e.byte;
  return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
});

async function readAll(bytes: Buffer): Promise<void> {
  const contents = inspectArchive(bytes, { channel: CHANNEL_UPLOADS.synchro, required: ['device.xml'], limits: TEST_LIMITS });
  for (const name of contents.names) {
    const data = contents.read(name);
    if (name === 'device.xml') parseDeviceXml(data);
    if (name === 'settings.xml') parseSettingsXml(data);
    if (name === 'attendances.csv') {
      for await (const row of readCsvLog(contents.stream(name), ATTENDANCE_COLUMNS)) {
        if (!row.malformed) validateAttendanceRow(row.fields, { receivedAt });
      }
    }
  }
}

describe('archives', () => {
  test('a mutated or truncated archive is read or refused with a protocol code, entry by entry', async () => {
    await fc.assert(fc.asyncProperty(mutatedZip, async (bytes) => {
      try {
        await readAll(bytes);
      } catch (err) {
        if (!expected(err)) throw err;
      }
    }), runs());
  });

  test('random bytes, with or without a zip signature, are refused with archive_corrupt or read', async () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.concat([Buffer.from('PK\x03\x04'), b])));
    await fc.assert(fc.asyncProperty(bytes, async (b) => {
      try {
        await readAll(Buffer.from(b));
      } catch (err) {
        if (!expected(err)) throw err;
      }
    }), params([[new Uint8Array(0)], [Uint8Array.from(Buffer.from('PK\x05\x06'))]]));
  });
});

/** XML-ish text: tags, attributes, entities, declarations and noise, nested at random. */
const xmlish = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' },
    fc.constantFrom('', 'a', '2026-11-20T08:00:00Z', '&amp;', '&lt;', '&#0;', '&#x110000;', '&bogus;', ']]>', '<!--x-->', '<![CDATA[x]]>', '<?pi x?>', '\u0000', '\uFFFF', 'é'),
    fc.string({ maxLength: 20 }),
    fc.record({ name: fc.constantFrom('device', 'settings', 'firmware', 'clock', 'timezone', 'pending_records', 'sync_interval_seconds', 'x', 'a:b', '1x'),
      attrs: fc.constantFrom('', ' a="1"', ' a=\'1\' a="2"', ' xmlns="urn:x"'), children: fc.array(tie('node'), { maxLength: 4 }) })
      .map(({ name, attrs, children }) => `<${name}${attrs}>${(children as string[]).join('')}</${name}>`)),
})).node;
const xmlDocument = fc.tuple(fc.constantFrom('', '<?xml version="1.0"?>', '<!DOCTYPE d [<!ENTITY e "x">]>', '\uFEFF'), xmlish).map(([prolog, body]) => prolog + body);

describe('XML', () => {
  test('device.xml and settings.xml: read, or xml_invalid', () => {
    fc.assert(fc.property(fc.oneof(xmlDocument, fc.string({ maxLength: 300 })), (text) => {
      for (const parse of [parseDeviceXml, parseSettingsXml]) {
        try {
          parse(text);
        } catch (err) {
          if (!expected(err)) throw err;
        }
      }
    }), params([['<device><clock>2026-02-30T08:00:00Z</clock></device>'], ['<!DOCTYPE device [<!ENTITY a "&a;&a;">]><device>&a;</device>'], ['<settings><a>\u0000</a></settings>']]));
  });
});

/** CSV-ish text: the attendance columns, separators, quotes and junk. */
const csvCells = fc.array(fc.oneof(
  fc.constantFrom('record_id', 'user_id', 'type', 'occurred_at', 'temperature', 'photo', '1', '-1', '9007199254740993', 'checkin', 'checkout',
    '2026-11-20T08:00:00Z', '2026-11-20T08:00:00+07:00', '2026-02-30T08:00:00Z', '36.6', 'NaN', '1e400', '"', '""', '"a,b"', '=cmd', '\u0000', ' '),
  fc.string({ maxLength: 12 }),
), { maxLength: 8 });
const csvish = fc.tuple(fc.array(csvCells, { maxLength: 12 }), fc.constantFrom(',', ';', '\t'), fc.constantFrom('\n', '\r\n', '\r'))
  .map(([rows, separator, newline]) => rows.map((cells) => cells.join(separator)).join(newline));

describe('CSV logs', () => {
  test('attendances.csv: every row is a row, malformed or checked; only a bad header fails the file, with csv_invalid', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(csvish, csvish.map((t) => `record_id,user_id,type,occurred_at\n${t}`)), async (text) => {
      try {
        for await (const row of readCsvLog(Buffer.from(text), ATTENDANCE_COLUMNS)) {
          if (row.malformed) continue;
          const checked = validateAttendanceRow(row.fields, { receivedAt });
          expect(typeof checked.ok).toBe('boolean');
        }
      } catch (err) {
        if (!expected(err)) throw err;
      }
    }), params([['record_id,user_id,type,occurred_at\n1,1,checkin,2026-11-20T08:00:00Z\n"unterminated'], ['\uFEFFrecord_id,user_id,type,occurred_at\r\n1,1,checkin,2026-11-20T08:00:00Z']]));
  });
});

/** PUSH lines: the fields of ATTLOG, rtlog, OPERLOG, options and results, and junk. */
const pushField = fc.oneof(
  fc.constantFrom('1001', '0', '', '2026-12-04 09:15:00', '2026-02-30 25:61:61', '9999-12-31 23:59:59', '255', '15', '-1', 'time=2026-12-04 09:15:00',
    'pin=1003', 'temperature=36.5', 'temperature=NaN', 'event=0', 'USER PIN=1', 'FP PIN=1', 'ID=17', 'Return=-1002', 'CMD=INFO', 'Name=\u0000', '~DeviceName=x'),
  fc.string({ maxLength: 16 }),
);
const pushLine = fc.tuple(fc.array(pushField, { maxLength: 24 }), fc.constantFrom('\t', '&', ' ', ',')).map(([fields, separator]) => fields.join(separator));
const pushBody = fc.array(pushLine, { maxLength: 10 }).map((lines) => lines.join('\n'));
const zones = fc.constantFrom('Europe/Paris', 'Asia/Kolkata', 'UTC', 'America/St_Johns', 'Pacific/Kiritimati');

describe('PUSH bodies', () => {
  test('ATTLOG and rtlog lines: a punch or a row code, never an exception', () => {
    fc.assert(fc.property(pushLine, zones, (line, zone) => {
      const attlog = parseAttlogLine(line, zone, receivedAt);
      expect(typeof attlog.ok).toBe('boolean');
      const rtlog = parseRtlogLine(line, zone, receivedAt);
      if (rtlog !== null) expect(typeof rtlog.ok).toBe('boolean');
      wallClockToInstant(line, zone);
    }), params([['1001\t2026-12-04 09:15:00\t0\t15', 'Europe/Paris'], ['1001\t2026-03-29 02:30:00', 'Europe/Paris'], [Array(20).fill('1').join('\t'), 'UTC']]));
  });

  test('options, OPERLOG and command results: read whatever the body', () => {
    fc.assert(fc.property(pushBody, (body) => {
      parseOptions(body);
      parseCommandResults(body);
      for (const line of body.split('\n')) parseOperlogLine(line);
    }), params([['ID=1\nReturn=-1002\nCMD=PutFile'], ['ID=1&Return=0&CMD=INFO\n~DeviceName=x\nUserCount=3']]));
  });

});
