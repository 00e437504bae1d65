// The kind an iCalendar event's CATEGORIES name (issue #29 item 3): French and English words,
// any case, accents or not; "public holiday" before "holiday"; unknown words name none.
import { expect, test } from '@jest/globals';
import { kindOfCategory } from '../../../shared/attendance/category-kind.js';

test.each([
  ['Jour férié', 'public_holiday'], ['JOURS FERIES', 'public_holiday'], ['Public holiday', 'public_holiday'], ['Bank Holiday', 'public_holiday'],
  ['Grève', 'closure'], ['greve', 'closure'], ['Strike', 'closure'], ['Fermeture', 'closure'], ['Closure', 'closure'], ['Pont', 'closure'], ['Journée pédagogique', 'closure'],
  ['Vacances', 'holiday'], ['Vacances scolaires', 'holiday'], ['Holiday', 'holiday'], ['Holidays', 'holiday'], ['Congés', 'holiday'], ['Half term', 'holiday'],
  ['Term', 'term'], ['Trimestre', 'term'], ['Année scolaire', 'term'], ['School year', 'term'],
  ['public_holiday', 'public_holiday'], ['closure', 'closure'],
] as const)('%j is %s', (category, kind) => {
  expect(kindOfCategory(category)).toBe(kind);
});

test.each(['Réunion', 'Sortie scolaire', 'Intermediate', 'Determination', ''])('%j names no kind', (category) => {
  expect(kindOfCategory(category)).toBeNull();
});
