// The language switch, in the header and on the sign-in form: each language named in itself.
import { field, select } from './dom.js';
import { language, LANGUAGES, m } from './i18n.js';

export function languagePicker(onChange: (code: string) => void): HTMLElement {
  const picker = select(LANGUAGES.map((l) => [l.code, l.name]), language());
  picker.id = 'language-picker';
  for (const option of Array.from(picker.options)) option.lang = option.value;
  picker.addEventListener('change', () => onChange(picker.value));
  const wrap = field(m.language, picker);
  wrap.classList.add('language');
  return wrap;
}
