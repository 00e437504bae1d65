// What kind of calendar entry an iCalendar event is, from its CATEGORIES (issue #29 item 3):
// a file may mix a public holiday, a strike and a vacation, and each becomes its own kind.
// French and English words as authorities and school software write them; the import's
// preview shows the mapping and lets the person importing change it.
import type { EntryKind } from './school-calendar.js';

/** Lower case, accents off, runs of anything else one space: "Jour Férié" → "jour ferie". */
export function foldWords(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

// Checked in this order: "public holiday" before "holiday", "jour ferie" before anything.
const WORDS: Array<[EntryKind, RegExp]> = [
  ['public_holiday', /\b(jours? feries?|feries?|public holidays?|bank holidays?|public_holiday|national holidays?|fete nationale)\b/],
  ['closure', /\b(greves?|strikes?|closures?|fermetures?|ferme|closed|pont|ponts|journees? pedagogiques?|snow days?|intemperies|inset days?)\b/],
  ['holiday', /\b(vacances|holidays?|vacations?|conges?|half term|break)\b/],
  ['term', /\b(terms?|trimestres?|semestres?|periodes? scolaires?|annee scolaire|school year|rentree)\b/],
];

/** The kind a category names, or null when it names none we know. */
export function kindOfCategory(category: string): EntryKind | null {
  const words = foldWords(category);
  const exact = words.replace(/ /g, '_');
  if (exact === 'term' || exact === 'holiday' || exact === 'public_holiday' || exact === 'closure') return exact;
  for (const [kind, re] of WORDS) if (re.test(words)) return kind;
  return null;
}
