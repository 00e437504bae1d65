// Roster files as a school office would upload them: CSV text, or an XLSX built with exceljs.
import ExcelJS from 'exceljs';

export async function rosterXlsx(rows: Array<Array<string | number | { formula: string }>>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('Pupils');
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export function rosterForm(file: Buffer | string, name: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const bytes = typeof file === 'string' ? Buffer.from(file, 'utf8') : file;
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  return form;
}
