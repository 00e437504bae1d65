// Shared by the channel suites: images built byte by byte, readings.csv and messages.csv writers.
import zlib from 'node:zlib';

/** A JPEG header as cameras write it: SOI, APP0 (JFIF), optional comment padding, SOF0 with the size, EOI. */
export function jpeg(width: number, height: number, opts: { padBytes?: number; seed?: number } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  parts.push(app0);
  let pad = opts.padBytes ?? 0;
  let seed = opts.seed ?? 1;
  while (pad > 0) {
    const n = Math.min(pad, 65_000);
    const com = Buffer.alloc(n + 4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(n + 2, 2);
    for (let i = 4; i < com.length; i++) com[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    parts.push(com);
    pad -= n;
  }
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  parts.push(sof, Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return out;
}

/** A real, decodable grey PNG of the given size. */
export function png(width: number, height: number, shade = 0x80): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((width + 1) * height, shade);
  for (let y = 0; y < height; y++) raw[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface CsvReading {
  record_id: number | string;
  measured_at: string;
  temperature: number | string;
  user_id?: number | string;
  sensor?: string;
}

export function readingsCsv(rows: readonly CsvReading[]): string {
  const lines = ['record_id,measured_at,temperature,user_id,sensor'];
  for (const r of rows) lines.push([r.record_id, r.measured_at, r.temperature, r.user_id ?? '', r.sensor ?? ''].join(','));
  return `${lines.join('\n')}\n`;
}

export interface CsvMessage {
  record_id: number | string;
  created_at: string;
  kind: string;
  body: string;
}

export function messagesCsv(rows: readonly CsvMessage[]): string {
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = ['record_id,created_at,kind,body'];
  for (const r of rows) lines.push([r.record_id, r.created_at, r.kind, quote(r.body)].join(','));
  return `${lines.join('\n')}\n`;
}

/** Minutes ago, as the protocol writes times. */
export const minutesAgo = (n: number, now = Date.now()) => new Date(now - n * 60_000).toISOString();
