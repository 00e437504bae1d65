// `settings.xml` (docs/protocol/v4.md §4): `<settings>` with one child element per setting. The result
// is a prototype-less object, so a setting name can never reach Object.prototype (fast-xml-parser
// does not treat such names as a vulnerability: SAFE-INPUT.md §1.2).

import { FileError } from '../protocol/file-error.js';
import { MAX_SETTING_VALUE_LENGTH, MAX_SETTINGS, SETTING_NAME } from '../protocol/settings.js';
import { assertElementOnly, leafText, parseSafeXml } from './safe-xml.js';

const MAX_SETTINGS_XML_BYTES = 256 * 1024;

function invalid(detail: string): FileError {
  return new FileError('xml_invalid', detail);
}

/**
 * Reads settings.xml into `name → value` (values trimmed; at most 100 settings, names
 * `[a-z][a-z0-9_]{0,63}`, values at most 1,000 characters). Throws FileError('xml_invalid').
 */
export function parseSettingsXml(input: Buffer | string): Record<string, string> {
  const root = parseSafeXml(input, { maxBytes: MAX_SETTINGS_XML_BYTES });
  if (root.name !== 'settings') throw invalid(`the root element is <${root.name}>, expected <settings>`);
  assertElementOnly(root);
  if (root.children.length > MAX_SETTINGS) {
    throw invalid(`${root.children.length} settings; at most ${MAX_SETTINGS} are allowed`);
  }

  const settings: Record<string, string> = Object.create(null);
  for (const child of root.children) {
    const name = child.name;
    if (!SETTING_NAME.test(name)) throw invalid(`setting name ${JSON.stringify(name.slice(0, 70))} is not allowed`);
    if (Object.hasOwn(settings, name)) throw invalid(`setting ${name} appears more than once`);
    if (child.attributes.size > 0) throw invalid(`setting ${name} must not have attributes`);
    const value = leafText(child).trim();
    if ([...value].length > MAX_SETTING_VALUE_LENGTH) {
      throw invalid(`setting ${name} is longer than ${MAX_SETTING_VALUE_LENGTH} characters`);
    }
    settings[name] = value;
  }
  return settings;
}
