// Parses untrusted XML from devices into a small element tree, following SAFE-INPUT.md §1.2:
// size cap, strict UTF-8, any DOCTYPE/ENTITY refused before the parser sees it, no entity
// processing in fast-xml-parser (we decode only the five predefined entities and character
// references ourselves, without expansion), strict validation, a nesting cap, and names kept as
// plain data (attributes in Maps, never merged into objects). Every failure is
// FileError('xml_invalid'): the file is reported, the rest of the batch is still imported.

import { XMLParser } from 'fast-xml-parser';
import { FileError } from '../protocol/file-error.js';

export interface XmlElement {
  name: string;
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  /** The element's own text (text and CDATA, decoded), child elements' text excluded. */
  text: string;
}

export interface SafeXmlOptions {
  /** Default 256 KiB. */
  maxBytes?: number;
  /** Element nesting depth, the root being depth 1; default 20. */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024;
const DEFAULT_MAX_DEPTH = 20;
const TEXT = '#text';
const CDATA = '#cdata';
const ATTRS = ':@';

const XML_ILLEGAL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const DOCTYPE_OR_ENTITY = /<!\s*(doctype|entity)/i;
const ENCODING_DECL = /^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']/;
const ENTITY_REF = /&([^&;\s]{0,10})(;?)/g;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function invalid(detail: string): FileError {
  return new FileError('xml_invalid', detail.slice(0, 300));
}

/**
 * Decodes `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xH;` in one linear pass; anything
 * else that starts with `&` is not well-formed XML here (there is no DTD to declare entities).
 */
export function decodeXmlEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY_REF, (_match, body: string, semicolon: string) => {
    if (!semicolon) throw invalid(`bare "&" or unterminated reference near "&${body}"`);
    if (body in PREDEFINED) return PREDEFINED[body];
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (numeric) {
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2], 10);
      const legal =
        code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!legal) throw invalid(`character reference &${body}; is not a legal XML character`);
      return String.fromCodePoint(code);
    }
    throw invalid(`unknown entity &${body};`);
  });
}

type OrderedNode = Record<string, unknown>;

function toElement(node: OrderedNode, name: string): XmlElement {
  const attributes = new Map<string, string>();
  const rawAttrs = node[ATTRS];
  if (rawAttrs && typeof rawAttrs === 'object') {
    for (const [key, value] of Object.entries(rawAttrs as Record<string, unknown>)) {
      attributes.set(key, decodeXmlEntities(String(value)));
    }
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[name] as OrderedNode[]) ?? []) {
    const key = Object.keys(child).find((k) => k !== ATTRS);
    if (key === undefined) continue;
    if (key === TEXT) {
      text += decodeXmlEntities(String(child[TEXT]));
    } else if (key === CDATA) {
      // CDATA is literal: no entity decoding.
      for (const part of child[CDATA] as OrderedNode[]) text += String(part[TEXT] ?? '');
    } else {
      children.push(toElement(child, key));
    }
  }
  return { name, attributes, children, text };
}

/** Parses a whole XML document; throws FileError('xml_invalid') for anything unsafe or malformed. */
export function parseSafeXml(input: Buffer | string, opts: SafeXmlOptions = {}): XmlElement {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw invalid(`the file is ${size} bytes; at most ${maxBytes} are allowed`);

  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw invalid('the file is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw invalid('the file is empty');

  // Refused before parsing: no DTD, internal subset or entity declaration ever reaches the parser.
  if (DOCTYPE_OR_ENTITY.test(text)) throw invalid('DOCTYPE and ENTITY declarations are not allowed');
  if (XML_ILLEGAL_CHAR.test(text)) throw invalid('the file contains characters not allowed in XML');
  const encoding = ENCODING_DECL.exec(text)?.[1];
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) throw invalid(`encoding ${JSON.stringify(encoding)} is not UTF-8`);

  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    allowBooleanAttributes: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: false,
    htmlEntities: false,
    cdataPropName: CDATA,
    commentPropName: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: false,
    // fast-xml-parser does not count the root; never pass 0 (once read as "no limit", CVE-2026-33349).
    maxNestedTags: Math.max(1, maxDepth - 1),
    strictReservedNames: true,
  });
  let parsed: unknown;
  try {
    // `true` runs the validator first: without it `<r><a></r>` parses silently (SAFE-INPUT §1.2).
    parsed = parser.parse(text, true);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  const roots = (parsed as OrderedNode[]).filter((node) => Object.keys(node).some((k) => k !== TEXT && k !== ATTRS));
  if (roots.length !== 1) throw invalid('expected exactly one root element');
  const rootName = Object.keys(roots[0]).find((k) => k !== ATTRS)!;
  return toElement(roots[0], rootName);
}

/** Child elements whose text is the value: refuses attributes-only trees, nested elements and mixed text. */
export function leafText(element: XmlElement): string {
  if (element.children.length > 0) throw invalid(`<${element.name}> must hold text only`);
  return element.text;
}

/** Throws unless `element` holds only child elements (whitespace between them is fine). */
export function assertElementOnly(element: XmlElement): void {
  if (element.text.trim() !== '') throw invalid(`<${element.name}> must hold elements only, not text`);
}
