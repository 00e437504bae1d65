// What an uploaded photo really is (docs/protocol/v4.md §7 "checked by content, not by name"): the magic
// bytes, then the header actually parsed — JPEG up to its SOF frame header, PNG its IHDR chunk
// with its CRC — so a text file named .jpg, a truncated header or a zero-sized image is refused.
// Nothing is decoded: the dimensions come from the header alone.
import zlib from 'node:zlib';

export type ImageInfo = { contentType: 'image/jpeg' | 'image/png'; width: number; height: number };
export type ImageCheck = { ok: true; info: ImageInfo } | { ok: false; code: 'not_an_image' | 'too_large'; reason: string };

/** At most 2 MiB per photo (§7). */
export const MAX_PHOTO_BYTES = 2 * 1024 * 1024;
/** A header claiming more pixels than this a side is a decompression bomb for whoever views it. */
export const MAX_PHOTO_SIDE = 16_384;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_BIT_DEPTHS = new Set([1, 2, 4, 8, 16]);
const PNG_COLOR_TYPES = new Set([0, 2, 3, 4, 6]);

const notAnImage = (reason: string): ImageCheck => ({ ok: false, code: 'not_an_image', reason });

function sized(info: ImageInfo): ImageCheck {
  if (info.width < 1 || info.height < 1) return notAnImage('the header declares an empty image');
  if (info.width > MAX_PHOTO_SIDE || info.height > MAX_PHOTO_SIDE) {
    return { ok: false, code: 'too_large', reason: `${info.width}×${info.height} pixels; at most ${MAX_PHOTO_SIDE} a side` };
  }
  return { ok: true, info };
}

/** SOFn markers carrying the frame size (not DHT C4, JPG C8, DAC CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegInfo(data: Buffer): ImageCheck {
  let at = 2;
  while (at + 4 <= data.length) {
    if (data[at] !== 0xff) return notAnImage(`no JPEG marker at byte ${at}`);
    let marker = data[at + 1];
    while (marker === 0xff && at + 2 < data.length) marker = data[++at + 1]; // fill bytes
    at += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return notAnImage('the JPEG reaches its data without a frame header');
    if (at + 2 > data.length) break;
    const length = data.readUInt16BE(at);
    if (length < 2 || at + length > data.length) return notAnImage('a JPEG segment runs past the end of the file');
    if (isStartOfFrame(marker)) {
      if (length < 8) return notAnImage('the JPEG frame header is too short');
      return sized({ contentType: 'image/jpeg', height: data.readUInt16BE(at + 3), width: data.readUInt16BE(at + 5) });
    }
    at += length;
  }
  return notAnImage('the JPEG ends before its frame header');
}

function pngInfo(data: Buffer): ImageCheck {
  if (data.length < 8 + 25) return notAnImage('the PNG is too short to hold its header');
  if (data.readUInt32BE(8) !== 13 || data.toString('latin1', 12, 16) !== 'IHDR') return notAnImage('the PNG does not start with IHDR');
  if ((zlib.crc32(data.subarray(12, 29)) >>> 0) !== data.readUInt32BE(29)) return notAnImage('the PNG header fails its CRC');
  const width = data.readUInt32BE(16);
  const height = data.readUInt32BE(20);
  if (!PNG_BIT_DEPTHS.has(data[24]) || !PNG_COLOR_TYPES.has(data[25])) return notAnImage('the PNG header declares an unknown pixel format');
  return sized({ contentType: 'image/png', width, height });
}

/** JPEG or PNG by content, within the size limit; the file name plays no part. */
export function checkImage(data: Buffer): ImageCheck {
  if (data.length > MAX_PHOTO_BYTES) return { ok: false, code: 'too_large', reason: `${data.length} bytes; at most ${MAX_PHOTO_BYTES}` };
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return jpegInfo(data);
  if (data.subarray(0, 8).equals(PNG_SIGNATURE)) return pngInfo(data);
  return notAnImage('neither a JPEG nor a PNG');
}
