// Reads the CSV files the fake mart receives (RFC 4180, as csv-parse reads them).
import { parse } from 'csv-parse/sync';

export function parseCsvText(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: false }) as string[][];
}
