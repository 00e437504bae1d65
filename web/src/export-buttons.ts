// "CSV" and "Excel (XLSX)" buttons for a table the server exports (issue #29 item 4): the
// file is written by the api (format=csv|xlsx) in the dashboard's language — headers
// translated, local times with the zone named, French CSV with ";" and a byte order mark —
// and downloaded as it comes.
import { getFile } from './api.js';
import { h } from './dom.js';
import { language, m } from './i18n.js';

export function saveBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Two buttons downloading `path()` (an api GET taking format and lang) as CSV and XLSX; null
 * from `path` means nothing to export yet. Errors go to `notify`.
 */
export function exportButtons(path: () => string | null, notify: (message: string, tone?: 'ok' | 'error') => void): HTMLElement {
  const button = (format: 'csv' | 'xlsx', label: string) => h('button', {
    type: 'button', class: 'secondary', 'data-export': format,
    onclick: (async () => {
      const base = path();
      if (!base) return;
      try {
        const { blob, filename } = await getFile(`${base}${base.includes('?') ? '&' : '?'}format=${format}&lang=${language()}`);
        saveBlob(filename, blob);
      } catch (err) {
        notify((err as Error).message, 'error');
      }
    }) as EventListener,
  }, label);
  return h('span', { class: 'export-buttons' }, button('csv', m.downloadCsv), button('xlsx', m.downloadXlsx));
}
