// A device speaking PROTOCOL.md over real HTTP, for tests: sign in, upload, wait, fetch, ack.
import AdmZip from 'adm-zip';
import { buildZip } from '../../shared/archive/build-zip.js';
import { http, type HttpResult } from './http.js';

export interface DeviceIdentity {
  id: string;
  secret: string;
}

export function deviceXml(opts: { clock?: Date | string; rosterVersion?: number; firmware?: string } = {}): string {
  const clock = opts.clock instanceof Date ? opts.clock.toISOString() : (opts.clock ?? new Date().toISOString());
  return `<device><firmware>${opts.firmware ?? '2.4.1'}</firmware><clock>${clock}</clock><timezone>Europe/Paris</timezone>`
    + `<pending_records>0</pending_records><roster_version>${opts.rosterVersion ?? 0}</roster_version></device>`;
}

export interface CsvAttendance {
  record_id: number | string;
  user_id: number | string;
  type: string;
  occurred_at: string;
  temperature?: string | number;
  photo?: string;
}

export function attendancesCsv(rows: readonly CsvAttendance[]): string {
  const lines = ['record_id,user_id,type,occurred_at,temperature,photo'];
  for (const r of rows) lines.push([r.record_id, r.user_id, r.type, r.occurred_at, r.temperature ?? '', r.photo ?? ''].join(','));
  return `${lines.join('\n')}\n`;
}

export function batchZip(files: Record<string, string | Buffer>): Buffer {
  return buildZip(Object.entries(files).map(([name, data]) => ({ name, data })));
}

export class TestDevice {
  token = '';

  constructor(readonly url: string, readonly identity: DeviceIdentity, readonly channel = 'synchro') {}

  async signIn(): Promise<this> {
    const res = await http(this.url, 'POST', '/v4/auth/token', { body: { device_id: this.identity.id, secret: this.identity.secret } });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
    this.token = res.body.access_token;
    return this;
  }

  call(method: string, path: string, body?: unknown): Promise<HttpResult> {
    return http(this.url, method, `/v4/${this.channel}/${path}`, { token: this.token, body });
  }

  status() { return this.call('GET', 'status'); }
  manifest() { return this.call('GET', 'manifest'); }

  upload(archive: Buffer, field = 'archive', filename = 'batch.zip'): Promise<HttpResult> {
    const form = new FormData();
    form.append(field, new Blob([new Uint8Array(archive)], { type: 'application/zip' }), filename);
    return http(this.url, 'POST', `/v4/${this.channel}/datas`, { token: this.token, body: form });
  }

  async waitForStatus(wanted: number, timeoutMs = 30_000): Promise<HttpResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.status();
      if (res.body.status === wanted) return res;
      if (Date.now() > deadline) throw new Error(`status stayed ${res.body.status}, wanted ${wanted}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  instructions(): Promise<HttpResult> { return this.call('GET', 'instructions'); }
  ack(sessionId: string): Promise<HttpResult> { return this.call('POST', 'ack', { session_id: sessionId }); }

  /** Upload, wait for the package, read it, acknowledge: one whole sync. */
  async sync(archive: Buffer): Promise<{ sessionId: string; pkg: Package }> {
    const up = await this.upload(archive);
    if (up.status !== 202) throw new Error(`upload refused: ${up.status} ${JSON.stringify(up.body)}`);
    await this.waitForStatus(2);
    const res = await this.instructions();
    const pkg = readPackage(res.body as Buffer);
    const ack = await this.ack(up.body.session_id);
    if (ack.status !== 200) throw new Error(`ack refused: ${ack.status}`);
    return { sessionId: up.body.session_id, pkg };
  }
}

export interface Package {
  xml: string;
  files: Record<string, string>;
  /** Attributes of every element named `tag`, in order. */
  all(tag: string): Array<Record<string, string>>;
}

export function readPackage(zip: Buffer): Package {
  const archive = new AdmZip(zip);
  const files: Record<string, string> = {};
  for (const e of archive.getEntries()) files[e.entryName] = e.getData().toString('utf8');
  const xml = files['instructions.xml'];
  return {
    xml,
    files,
    all(tag) {
      const out: Array<Record<string, string>> = [];
      for (const m of xml.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))) {
        const attrs: Record<string, string> = {};
        for (const a of m[1].matchAll(/([a-z_]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
        out.push(attrs);
      }
      return out;
    },
  };
}
