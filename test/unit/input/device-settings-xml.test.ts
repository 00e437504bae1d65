import { describe, expect, it } from '@jest/globals';
import { FileError } from '../../../shared/protocol/file-error.js';
import { parseDeviceXml } from '../../../shared/xml/device-xml.js';
import { parseSafeXml } from '../../../shared/xml/safe-xml.js';
import { parseSettingsXml } from '../../../shared/xml/settings-xml.js';
import { DEVICE_XML, SETTINGS_XML } from '../../../fixtures/fixture-data.js';

function fileErrorOf(fn: () => unknown): FileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FileError) return err;
    throw err;
  }
  throw new Error('expected a FileError');
}

describe('parseSafeXml refuses unsafe or malformed documents with xml_invalid', () => {
  it.each([
    ['a DOCTYPE', '<!DOCTYPE device><device/>'],
    ['a lower-case doctype', '<!doctype device><device/>'],
    ['an internal entity (billion laughs)', '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'],
    ['an external entity (XXE)', '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'],
    ['an ENTITY outside a DOCTYPE', '<d><!ENTITY x "y"></d>'],
    ['an undeclared entity', '<d>&x;</d>'],
    ['an HTML entity', '<d>&nbsp;</d>'],
    ['a bare ampersand in text', '<d>a & b</d>'],
    ['a bare ampersand in an attribute', '<d a="x&y"/>'],
    ['an out-of-range character reference', '<d>&#9999999;</d>'],
    ['a reference to a control character', '<d>&#1;</d>'],
    ['a mismatched closing tag', '<r><a></r>'],
    ['an unclosed root', '<device>'],
    ['two roots', '<a/><b/>'],
    ['text only', 'hello'],
    ['nothing', '   '],
    ['__proto__', '<d><__proto__>1</__proto__></d>'],
    ['constructor', '<d><constructor>1</constructor></d>'],
    ['a __proto__ attribute', '<d __proto__="x"/>'],
    ['deep nesting', '<a>'.repeat(5000) + '</a>'.repeat(5000)],
    ['a control character', '<d>\u0007</d>'],
    ['a Latin-1 encoding declaration', '<?xml version="1.0" encoding="ISO-8859-1"?><d/>'],
    ['a repeated attribute', '<d a="1" a="2"/>'],
    ['a boolean attribute', '<d a/>'],
  ])('%s', (_label, xml) => {
    expect(fileErrorOf(() => parseSafeXml(xml)).code).toBe('xml_invalid');
  });

  it('refuses bytes that are not UTF-8', () => {
    const latin1 = Buffer.from('<d>caf\xe9</d>', 'latin1');
    expect(fileErrorOf(() => parseSafeXml(latin1)).detail).toMatch(/UTF-8/);
  });

  it('refuses a document over the size cap before parsing it', () => {
    const xml = `<d>${'x'.repeat(2000)}</d>`;
    expect(fileErrorOf(() => parseSafeXml(xml, { maxBytes: 1000 })).detail).toMatch(/at most 1000/);
    expect(parseSafeXml(xml, { maxBytes: 5000 }).text).toHaveLength(2000);
  });

  it('caps nesting at maxDepth', () => {
    const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(parseSafeXml(nest(5), { maxDepth: 5 }).name).toBe('a');
    expect(fileErrorOf(() => parseSafeXml(nest(6), { maxDepth: 5 })).code).toBe('xml_invalid');
  });

  it('leaves Object.prototype alone', () => {
    try {
      parseSafeXml('<d><__proto__><polluted>1</polluted></__proto__></d>');
    } catch {
      // refused: fine
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseSafeXml decoding', () => {
  it('decodes the predefined entities and character references once, and keeps CDATA literal', () => {
    const root = parseSafeXml('<d a="&quot;1&quot; &amp;amp; &#x41;">&lt;b&gt; &amp;lt; &#233;&#x1F600;<![CDATA[&amp; <raw>]]></d>');
    expect(root.attributes.get('a')).toBe('"1" &amp; A');
    expect(root.text).toBe('<b> &lt; é😀&amp; <raw>');
  });

  it('accepts a BOM, an XML declaration, comments and processing instructions', () => {
    const root = parseSafeXml('\ufeff<?xml version="1.0" encoding="utf-8"?><!-- c --><?pi x?><d><e>1</e></d><!-- end -->');
    expect(root.name).toBe('d');
    expect(root.children.map((c) => c.name)).toEqual(['e']);
  });

  it('keeps children in document order, with attributes in Maps', () => {
    const root = parseSafeXml('<r><a x="1"/><b>t</b><a x="2"/></r>');
    expect(root.children.map((c) => `${c.name}:${c.attributes.get('x') ?? c.text}`)).toEqual(['a:1', 'b:t', 'a:2']);
    expect(root.children[0].attributes).toBeInstanceOf(Map);
  });
});

describe('parseDeviceXml', () => {
  it('reads the docs/protocol/v4.md §4 example', () => {
    expect(parseDeviceXml(Buffer.from(DEVICE_XML))).toEqual({
      firmware: '2.4.1',
      clock: new Date('2026-11-20T01:00:00Z'),
      timezone: 'Asia/Ho_Chi_Minh',
      pendingRecords: 0,
      rosterVersion: 41,
    });
  });

  it('reads missing and empty fields as null and ignores unknown elements', () => {
    expect(parseDeviceXml('<device><firmware/><battery>88</battery><clock> 2026-11-20T08:00:00Z </clock></device>')).toEqual({
      firmware: null,
      clock: new Date('2026-11-20T08:00:00Z'),
      timezone: null,
      pendingRecords: null,
      rosterVersion: null,
    });
  });

  it.each([
    ['a wrong root', '<devices><firmware>1</firmware></devices>'],
    ['a clock without offset', '<device><clock>2026-11-20T08:00:00</clock></device>'],
    ['a clock on a day that does not exist', '<device><clock>2026-02-29T08:00:00Z</clock></device>'],
    ['a clock in another format', '<device><clock>20/11/2026 08:00</clock></device>'],
    ['negative pending_records', '<device><pending_records>-1</pending_records></device>'],
    ['decimal roster_version', '<device><roster_version>4.1</roster_version></device>'],
    ['roster_version in exponent form', '<device><roster_version>1e3</roster_version></device>'],
    ['a huge pending_records', '<device><pending_records>99999999999999999999</pending_records></device>'],
    ['a field given twice', '<device><firmware>1</firmware><firmware>2</firmware></device>'],
    ['a field holding an element', '<device><firmware><x>1</x></firmware></device>'],
    ['text beside the fields', '<device>hello<firmware>1</firmware></device>'],
    ['a timezone that is not a zone name', '<device><timezone>../../etc/passwd</timezone></device>'],
    ['a firmware with a control character', '<device><firmware>2.4&#10;1</firmware></device>'],
    ['not XML', 'firmware=2.4.1'],
  ])('refuses %s with xml_invalid', (_label, xml) => {
    expect(fileErrorOf(() => parseDeviceXml(xml)).code).toBe('xml_invalid');
  });
});

describe('parseSettingsXml', () => {
  it('reads the fixture into a prototype-less object', () => {
    const settings = parseSettingsXml(Buffer.from(SETTINGS_XML));
    expect({ ...settings }).toEqual({
      sync_interval_seconds: '300',
      screen_brightness: '80',
      welcome_text: 'Xin chào & welcome',
      language: 'vi',
    });
    expect(Object.getPrototypeOf(settings)).toBeNull();
  });

  it('keeps setting names that shadow Object.prototype as plain data', () => {
    const settings = parseSettingsXml('<settings><valueof>1</valueof><tostring>2</tostring></settings>');
    expect(settings.valueof).toBe('1');
    expect(Object.getPrototypeOf(settings)).toBeNull();
  });

  it('accepts empty settings and empty values', () => {
    expect({ ...parseSettingsXml('<settings/>') }).toEqual({});
    expect({ ...parseSettingsXml('<settings><motd></motd></settings>') }).toEqual({ motd: '' });
  });

  it('accepts exactly 100 settings and values of exactly 1,000 characters', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => `<s${i}>${'é'.repeat(1000)}</s${i}>`).join('');
    expect(Object.keys(parseSettingsXml(`<settings>${hundred}</settings>`))).toHaveLength(100);
  });

  it.each([
    ['a wrong root', '<setting><a>1</a></setting>'],
    ['101 settings', `<settings>${Array.from({ length: 101 }, (_, i) => `<s${i}>1</s${i}>`).join('')}</settings>`],
    ['a value of 1,001 characters', `<settings><a>${'x'.repeat(1001)}</a></settings>`],
    ['an upper-case name', '<settings><Sync>1</Sync></settings>'],
    ['a name starting with a digit', '<settings><_a>1</_a></settings>'],
    ['a name longer than 64', `<settings><${'a'.repeat(65)}>1</${'a'.repeat(65)}></settings>`],
    ['a namespaced name', '<settings><x:a xmlns:x="u">1</x:a></settings>'],
    ['a name repeated', '<settings><a>1</a><a>2</a></settings>'],
    ['a nested element', '<settings><a><b>1</b></a></settings>'],
    ['an attribute', '<settings><a unit="s">1</a></settings>'],
    ['text beside the settings', '<settings>oops<a>1</a></settings>'],
    ['a DOCTYPE', '<!DOCTYPE settings><settings/>'],
  ])('refuses %s with xml_invalid', (_label, xml) => {
    expect(fileErrorOf(() => parseSettingsXml(xml)).code).toBe('xml_invalid');
  });
});
