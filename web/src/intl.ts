// The formatting locale (a BCP 47 tag such as en-GB or fr-FR) behind every number, date and
// plural the dashboard writes: set once by i18n.ts from the chosen language and the browser's.
let current = 'en';

export function setFormatLocale(tag: string): void {
  current = tag;
}

export function locale(): string {
  return current;
}

export function num(n: number, opts?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(current, opts).format(n);
}

export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

/** The form for `n` in the current locale's plural rules; `#` in it becomes `n`, formatted. */
export function plural(n: number, forms: PluralForms): string {
  const form = forms[new Intl.PluralRules(current).select(n)] ?? forms.other;
  return form.replaceAll('#', num(n));
}

/** A list in words: "a, b and c" / "a, b et c". */
export function list(items: string[]): string {
  return new Intl.ListFormat(current, { type: 'conjunction' }).format(items);
}
