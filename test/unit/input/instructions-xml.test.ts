import { describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import type { InstructionPackage } from '../../../shared/protocol/instruction-package.js';
import { buildInstructionsXml, escapeXmlAttr, escapeXmlText } from '../../../shared/xml/instructions-xml.js';
import { parseSafeXml, type XmlElement } from '../../../shared/xml/safe-xml.js';

const SECTION_5: InstructionPackage = {
  sessionId: '6f1c2a4e-0d7b-4f43-9a51-2c8e7d3b9f10',
  generatedAt: new Date('2026-11-20T08:00:03Z'),
  imports: [{ file: 'attendances.csv', received: 120, accepted: 115, duplicates: 3, rejected: 2, highWaterMark: 1234 }],
  rejections: [{ file: 'attendances.csv', line: 78, recordId: 77, code: 'temperature_out_of_range' }],
  errors: [{ file: 'settings.xml', code: 'xml_invalid', detail: 'unknown entity &foo;' }],
  clock: { serverTime: new Date('2026-11-20T08:00:03Z'), skewSeconds: -340 },
  roster: { version: 42, mode: 'delta', file: 'roster.csv' },
  settings: { sync_interval_seconds: '300' },
  flags: [{ id: 17, name: 'FULL_RESYNC' }],
};

describe('buildInstructionsXml', () => {
  it('writes the docs/protocol/v4.md §5 example', () => {
    expect(buildInstructionsXml(SECTION_5)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<instructions session_id="6f1c2a4e-0d7b-4f43-9a51-2c8e7d3b9f10" generated_at="2026-11-20T08:00:03Z">',
        '  <import file="attendances.csv" received="120" accepted="115" duplicates="3" rejected="2" high_water_mark="1234"/>',
        '  <rejection file="attendances.csv" line="78" record_id="77" code="temperature_out_of_range"/>',
        '  <error file="settings.xml" code="xml_invalid" detail="unknown entity &amp;foo;"/>',
        '  <clock server_time="2026-11-20T08:00:03Z" skew_seconds="-340"/>',
        '  <roster version="42" mode="delta" file="roster.csv"/>',
        '  <settings><sync_interval_seconds>300</sync_interval_seconds></settings>',
        '  <flag id="17" name="FULL_RESYNC"/>',
        '</instructions>',
        '',
      ].join('\n'),
    );
  });

  it('writes a rejection\'s detail as an attribute a parser reads back as sent (docs/protocol/v4.md §4.5)', () => {
    const detail = 'type: "<b>&amp;" is not checkin or checkout';
    const xml = buildInstructionsXml({ sessionId: 's', generatedAt: new Date('2026-11-20T08:00:03Z'), rejections: [
      { file: 'attendances.csv', line: 3, code: 'malformed_row', detail: 'expected 6 fields, got 5' },
      { file: 'attendances.csv', line: 4, recordId: 7, code: 'invalid_type', detail },
      { file: 'attendances.csv', line: 5, recordId: 8, code: 'invalid_type', detail: null },
    ] });
    expect(xml).toContain('  <rejection file="attendances.csv" line="3" code="malformed_row" detail="expected 6 fields, got 5"/>\n');
    expect(xml).toContain('  <rejection file="attendances.csv" line="5" record_id="8" code="invalid_type"/>\n');
    const read = parseSafeXml(xml).children.map((el) => el.attributes.get('detail'));
    expect(read).toEqual(['expected 6 fields, got 5', detail, undefined]);
  });

  it('writes the other channels\' parts (§5 failure, §7)', () => {
    const xml = buildInstructionsXml({
      sessionId: 's1',
      generatedAt: new Date('2026-11-20T08:00:03.250Z'),
      errors: [{ code: 'processing_failed', retry: true }],
      flags: [{ id: 3, name: 'RESEND_SINCE', params: { since: '2026-11-01' } }],
      alerts: [
        { kind: 'fever', recordId: 9, userId: 4, temperature: 38.6, measuredAt: new Date('2026-11-19T01:02:03Z') },
        { kind: 'fever', recordId: 10, userId: null, temperature: 39, measuredAt: new Date('2026-11-19T01:03:00Z') },
      ],
      messages: [
        { id: 5, priority: 'high', createdAt: new Date('2026-11-18T09:00:00Z'), expiresAt: null, text: 'Fire drill at 10:00' },
      ],
      photos: [
        { name: 'p0001.jpg', sha256: 'ab'.repeat(32), stored: true },
        { name: 'p0002.jpg', code: 'not_an_image' },
      ],
    });
    expect(xml).toContain('generated_at="2026-11-20T08:00:03.250Z"');
    expect(xml).toContain('  <error code="processing_failed" retry="true"/>');
    expect(xml).toContain('  <flag id="3" name="RESEND_SINCE" since="2026-11-01"/>');
    expect(xml).toContain('  <alert kind="fever" record_id="9" user_id="4" temperature="38.6" measured_at="2026-11-19T01:02:03Z"/>');
    expect(xml).toContain('  <alert kind="fever" record_id="10" temperature="39" measured_at="2026-11-19T01:03:00Z"/>');
    expect(xml).toContain('  <message id="5" priority="high" created_at="2026-11-18T09:00:00Z">Fire drill at 10:00</message>');
    expect(xml).toContain(`  <photo name="p0001.jpg" sha256="${'ab'.repeat(32)}" stored="true"/>`);
    expect(xml).toContain('  <photo name="p0002.jpg" code="not_an_image"/>');
  });

  it('writes only the root when there is nothing to say', () => {
    const root = parseSafeXml(buildInstructionsXml({ sessionId: 's', generatedAt: new Date('2026-11-20T00:00:00Z') }));
    expect(root.name).toBe('instructions');
    expect(root.children).toEqual([]);
    expect(buildInstructionsXml({ sessionId: 's', generatedAt: new Date(0), settings: {} })).not.toContain('<settings');
  });

  it('round-trips hostile text through our safe parser and through fast-xml-parser', () => {
    const hostile = 'a"b\'c<d>e&f ]]> <!-- x --> <![CDATA[y]]> &amp; \t tab\r\nline\u0000\u0008nul\uffff 😀 \ud800lone';
    const expected = hostile.replace(/[\u0000\u0008\uffff]|\ud800/g, '');
    const xml = buildInstructionsXml({
      sessionId: hostile,
      generatedAt: new Date('2026-11-20T00:00:00Z'),
      errors: [{ file: 'settings.xml', code: 'xml_invalid', detail: hostile }],
      settings: new Map([['welcome_text', hostile]]),
      messages: [{ id: 'm"1', priority: 'normal', createdAt: new Date('2026-11-20T00:00:00Z'), expiresAt: new Date('2026-11-21T00:00:00Z'), text: hostile }],
    });

    const root = parseSafeXml(xml);
    const child = (name: string): XmlElement => root.children.find((c) => c.name === name)!;
    expect(root.attributes.get('session_id')).toBe(expected);
    expect(child('error').attributes.get('detail')).toBe(expected);
    expect(child('settings').children[0].text).toBe(expected);
    expect(child('message').text).toBe(expected);
    expect(child('message').attributes.get('id')).toBe('m"1');
    expect(root.children.map((c) => c.name)).toEqual(['error', 'settings', 'message']);

    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', trimValues: false, parseTagValue: false, htmlEntities: true })
      .parse(xml, true);
    expect(parsed.instructions.session_id).toBe(expected);
    expect(parsed.instructions.message['#text']).toBe(expected);
    expect(parsed.instructions.settings.welcome_text).toBe(expected);
  });

  it('escapes for attributes and for text', () => {
    expect(escapeXmlAttr(`<&>"'\t\n\r`)).toBe('&lt;&amp;&gt;&quot;&apos;&#9;&#10;&#13;');
    expect(escapeXmlText(`<&>"'\t\n\r`)).toBe(`&lt;&amp;&gt;"'\t\n&#13;`);
  });

  it.each([
    ['a setting name that is not a name', { settings: { 'a"><x': '1' } }, /setting name/],
    ['a setting name with upper case', { settings: { Sync: '1' } }, /setting name/],
    ['a flag parameter named like a fixed attribute', { flags: [{ id: 1, name: 'X', params: { name: 'y' } }] }, /flag parameter/],
    ['a flag parameter that is not a name', { flags: [{ id: 1, name: 'X', params: { 'a b': 'y' } }] }, /flag parameter/],
    ['a negative count', { imports: [{ file: 'a', received: -1, accepted: 0, duplicates: 0, rejected: 0, highWaterMark: 0 }] }, /non-negative/],
    ['a fractional line', { rejections: [{ file: 'a', line: 1.5, code: 'malformed_row' }] }, /non-negative/],
    ['an invalid date', { clock: { serverTime: new Date(Number.NaN), skewSeconds: 1 } }, /invalid date/],
  ] as [string, Partial<InstructionPackage>, RegExp][])('refuses %s', (_label, part, message) => {
    expect(() => buildInstructionsXml({ sessionId: 's', generatedAt: new Date(0), ...part })).toThrow(message);
  });
});
