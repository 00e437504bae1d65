// Writes `instructions.xml` (docs/protocol/v4.md §5, §7) from an InstructionPackage. Written by hand
// rather than with fast-xml-parser's XMLBuilder (CVE-2026-41650, comment/CDATA injection): every
// attribute and text value goes through one escaper, and XML-illegal characters are dropped, so
// nothing a device or staff member typed can change the document's structure.

import { formatIsoTimestamp } from '../protocol/iso-timestamp.js';
import type { InstructionPackage, RowRejection } from '../protocol/instruction-package.js';
import { SETTING_NAME } from '../protocol/settings.js';

/** Attribute names we may write for flag parameters. */
const PARAM_NAME = /^[a-z][a-z0-9_]{0,63}$/;
// Controls other than tab/LF/CR, U+FFFE/U+FFFF, and unpaired surrogates cannot appear in XML 1.0.
const XML_ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

type AttrValue = string | number | boolean | Date | null | undefined;

/** Drops characters XML 1.0 cannot carry at all, even escaped. */
export function stripXmlIllegal(value: string): string {
  return value.replace(XML_ILLEGAL, '');
}

/** Escapes element text; CR is kept as a reference so parsers do not normalise it away. */
export function escapeXmlText(value: string): string {
  return stripXmlIllegal(value).replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** Escapes an attribute value for double quotes; tab/LF/CR as references survive attribute normalisation. */
export function escapeXmlAttr(value: string): string {
  const map: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
  return stripXmlIllegal(value).replace(/[&<>"'\t\n\r]/g, (c) => map[c]);
}

function attrText(value: Exclude<AttrValue, null | undefined>): string {
  if (value instanceof Date) return formatIsoTimestamp(value);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return String(value);
}

/** `<name a="…" b="…"/>`, or with text content when `text` is given; null/undefined attributes are left out. */
function element(name: string, attrs: Record<string, AttrValue>, text?: string): string {
  let out = `<${name}`;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    out += ` ${key}="${escapeXmlAttr(attrText(value))}"`;
  }
  return text === undefined ? `${out}/>` : `${out}>${escapeXmlText(text)}</${name}>`;
}

function count(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
  return value;
}

/** The instruction package's `instructions.xml`, UTF-8 text with an XML declaration. */
export function buildInstructionsXml(pkg: InstructionPackage): string {
  const { head, tail } = instructionsXmlParts(pkg);
  return head + (pkg.rejections ?? []).map(rejectionXml).join('') + tail;
}

/** One `<rejection …/>` line of instructions.xml. */
export function rejectionXml(rej: RowRejection): string {
  return `  ${element('rejection', { file: rej.file, line: count(rej.line, 'line'), record_id: rej.recordId, code: rej.code, detail: rej.detail })}\n`;
}

/**
 * instructions.xml around its `<rejection>` lines (which `pkg.rejections` does not give here):
 * `head`, the rejections (`rejectionXml` each), then `tail` make the document, so a package
 * with more rejections than are held in memory is written as they are read
 * (worker/import/assemble-package.ts).
 */
export function instructionsXmlParts(pkg: InstructionPackage): { head: string; tail: string } {
  // The `<import>` lines come before the rejections, every other line after them.
  const before: string[] = [];
  const lines: string[] = [];
  const add = (line: string) => lines.push(`  ${line}\n`);

  for (const imp of pkg.imports ?? []) {
    before.push(`  ${element('import', {
      file: imp.file,
      received: count(imp.received, 'received'),
      accepted: count(imp.accepted, 'accepted'),
      duplicates: count(imp.duplicates, 'duplicates'),
      rejected: count(imp.rejected, 'rejected'),
      high_water_mark: count(imp.highWaterMark, 'high_water_mark'),
    })}\n`);
  }
  for (const err of pkg.errors ?? []) {
    add(element('error', { file: err.file, code: err.code, detail: err.detail, retry: err.retry ? true : undefined }));
  }
  if (pkg.clock) {
    if (!Number.isSafeInteger(pkg.clock.skewSeconds)) throw new RangeError('skew_seconds must be an integer');
    add(element('clock', { server_time: pkg.clock.serverTime, skew_seconds: pkg.clock.skewSeconds }));
  }
  if (pkg.roster) {
    add(element('roster', { version: count(pkg.roster.version, 'roster version'), mode: pkg.roster.mode, file: pkg.roster.file }));
  }
  const settings = pkg.settings instanceof Map ? [...pkg.settings] : Object.entries(pkg.settings ?? {});
  if (settings.length > 0) {
    const parts = settings.map(([name, value]) => {
      // Setting names become element names: only the settings.xml alphabet may pass.
      if (!SETTING_NAME.test(name)) throw new Error(`setting name ${JSON.stringify(name)} is not allowed`);
      return element(name, {}, value);
    });
    add(`<settings>${parts.join('')}</settings>`);
  }
  for (const flag of pkg.flags ?? []) {
    const attrs: Record<string, AttrValue> = { id: flag.id, name: flag.name };
    for (const [key, value] of Object.entries(flag.params ?? {})) {
      if (!PARAM_NAME.test(key) || key === 'id' || key === 'name') throw new Error(`flag parameter ${JSON.stringify(key)} is not allowed`);
      attrs[key] = value;
    }
    add(element('flag', attrs));
  }
  for (const alert of pkg.alerts ?? []) {
    add(element('alert', {
      kind: alert.kind,
      record_id: alert.recordId,
      user_id: alert.userId,
      temperature: alert.temperature,
      measured_at: alert.measuredAt,
    }));
  }
  for (const msg of pkg.messages ?? []) {
    add(element('message', { id: msg.id, priority: msg.priority, created_at: msg.createdAt, expires_at: msg.expiresAt }, msg.text));
  }
  for (const photo of pkg.photos ?? []) {
    add('sha256' in photo
      ? element('photo', { name: photo.name, sha256: photo.sha256, stored: true })
      : element('photo', { name: photo.name, code: photo.code }));
  }

  const open = element('instructions', { session_id: pkg.sessionId, generated_at: pkg.generatedAt }).slice(0, -2);
  return {
    head: `<?xml version="1.0" encoding="UTF-8"?>\n${open}>\n${before.join('')}`,
    tail: `${lines.join('')}</instructions>\n`,
  };
}
