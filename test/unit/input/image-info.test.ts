// Photos are checked by content (docs/protocol/v4.md §7): magic bytes and a parsed header, never the name.
import { describe, expect, test } from '@jest/globals';
import { checkImage, MAX_PHOTO_BYTES } from '../../../shared/image/image-info.js';
import { jpeg, png } from '../../channels/helpers.js';

describe('checkImage', () => {
  test.each([
    ['a JPEG', jpeg(640, 480), { contentType: 'image/jpeg', width: 640, height: 480 }],
    ['a JPEG with a comment segment before its frame', jpeg(1, 2, { padBytes: 5000 }), { contentType: 'image/jpeg', width: 1, height: 2 }],
    ['a PNG', png(3, 5), { contentType: 'image/png', width: 3, height: 5 }],
  ])('%s is an image of its declared size', (_what, data, info) => {
    expect(checkImage(data)).toEqual({ ok: true, info });
  });

  const png1 = png(3, 5);
  const badCrc = Buffer.from(png1);
  badCrc[20] ^= 0xff; // height byte changed, CRC not
  const jpegNoFrame = Buffer.concat([jpeg(10, 10).subarray(0, 20), Buffer.from([0xff, 0xda, 0x00, 0x02, 0xff, 0xd9])]);
  test.each([
    ['text named .jpg', Buffer.from('not a photo at all, just text\n')],
    ['an empty file', Buffer.alloc(0)],
    ['a JPEG signature alone', Buffer.from([0xff, 0xd8, 0xff])],
    ['a JPEG whose data starts before any frame header', jpegNoFrame],
    ['a JPEG cut in its header', jpeg(10, 10).subarray(0, 25)],
    ['a JPEG declaring 0×0', jpeg(0, 0)],
    ['a PNG whose header fails its CRC', badCrc],
    ['a PNG signature then garbage', Buffer.concat([png1.subarray(0, 8), Buffer.alloc(40, 0x41)])],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')],
  ])('%s → not_an_image', (_what, data) => {
    expect(checkImage(data)).toMatchObject({ ok: false, code: 'not_an_image' });
  });

  test('over 2 MiB → too_large, and so is a header claiming a huge picture', () => {
    expect(checkImage(jpeg(100, 100, { padBytes: MAX_PHOTO_BYTES }))).toMatchObject({ ok: false, code: 'too_large' });
    expect(checkImage(jpeg(65_000, 65_000))).toMatchObject({ ok: false, code: 'too_large' });
  });
});
