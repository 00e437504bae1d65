// The two query parameters every exportable list takes, and the reply that carries the file.
import type { Request } from 'express';
import { z } from 'zod';
import { reply, type Reply } from '../http/route.js';
import { EXPORT_LANGS, exportLang, tableFile, type ExportFormat, type ExportTable } from './table-file.js';

/** Most rows one file holds; a wider range is refused (422) rather than cut short. */
export const EXPORT_MAX_ROWS = 50_000;

export const exportQuery = {
  format: z.enum(['json', 'csv', 'xlsx']).default('json')
    .describe('csv or xlsx: the whole list as a file in the reader\'s language (lang, else Accept-Language): translated headers, local times with the zone named; CSV in French with ";" and a byte order mark, XLSX with typed cells'),
  lang: z.enum(EXPORT_LANGS).optional().describe('The file\'s language (en, fr); Accept-Language when absent'),
};

export function langOf(query: { lang?: string }, req: Request) {
  return exportLang(query.lang, req.headers['accept-language']);
}

export async function fileReply<R>(table: ExportTable<R>, format: ExportFormat, query: { lang?: string }, req: Request, name: string): Promise<Reply> {
  const file = await tableFile(table, format, langOf(query, req), name);
  return reply.raw(file.bytes, file.contentType, { ...file.headers, 'Cache-Control': 'private, no-store' });
}
