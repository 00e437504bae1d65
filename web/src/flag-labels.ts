// A flag's name in words and what it does, from the catalogue (docs/FLAGS.md): the constant
// itself stays visible in a title, for those who read the protocol.
import { m } from './i18n.js';

export function flagLabel(name: string): string {
  return m.flags[name]?.label ?? name;
}

export function flagHelp(name: string): string {
  return m.flags[name]?.help ?? '';
}
