// A PUSH (iclock) terminal as the server sees it (docs/protocol/push.md): handshake, ATTLOG/OPERLOG/options
// uploads, getrequest polls and devicecmd results, over plain HTTP. Used by the tests, the
// simulator (`--protocol push`, `--protocol push3`) and the push bench.
import { createHash } from 'node:crypto';
import { http, type HttpOptions } from './http.js';

/** Decides, per call, whether its answer is lost (dropped) or it times out; null: a normal call. */
export type PushFaults = (call: string) => Pick<HttpOptions, 'dropResponse' | 'timeoutMs'> | null;

export interface PushAnswer {
  status: number;
  body: string;
  headers: Headers;
}

export interface PunchLine {
  pin: string;
  /** 'YYYY-MM-DD HH:MM:SS', the terminal's wall clock. */
  time: string;
  status?: number;
  verify?: number;
}

export function attlogBody(punches: readonly PunchLine[], eol = '\n'): string {
  return punches.map((p) => [p.pin, p.time, String(p.status ?? 255), String(p.verify ?? 1), '0', '0', '0'].join('\t')).join(eol) + eol;
}

/** One Security PUSH 3.x rtlog event (docs/protocol/push.md §4): a punch when it names a pin. */
export interface RtlogEvent {
  /** 'YYYY-MM-DD HH:MM:SS', the terminal's wall clock. */
  time: string;
  /** '0' or absent: no user (a door or alarm event). */
  pin?: string;
  /** 0 entry, 1 exit, 2 none. */
  inout?: number;
  verify?: number;
  event?: number;
  /** °C; 0 when the terminal measured none. */
  temperature?: number;
  index?: number;
}

/** rtlog lines as SpeedFace firmware writes them: every key, TAB-separated. */
export function rtlogBody(events: readonly RtlogEvent[], eol = '\n'): string {
  return events.map((e, i) => [
    `time=${e.time}`, `pin=${e.pin ?? '0'}`, 'cardno=0', 'eventaddr=1', `event=${e.event ?? 0}`, `inoutstatus=${e.inout ?? 2}`,
    `verifytype=${e.verify ?? 15}`, `index=${e.index ?? i + 1}`, 'sitecode=0', 'linkid=0', 'maskflag=0', `temperature=${e.temperature ?? 0}`, 'convtemperature=0',
  ].join('\t')).join(eol) + eol;
}

export interface PushCommand {
  id: number;
  command: string;
}

export function parseCommands(body: string): PushCommand[] {
  return body.split('\n').flatMap((line) => {
    const m = /^C:(\d+):(.*)$/.exec(line);
    return m ? [{ id: Number(m[1]), command: m[2] }] : [];
  });
}

/** The token a Security PUSH 3.x terminal carries once registered (docs/protocol/push.md §2.1): MD5 of RegistryCode, SN and SessionID, hex. */
export function registryToken(registryCode: string, sn: string, sessionId: string): string {
  return createHash('md5').update(`${registryCode}${sn}${sessionId}`).digest('hex');
}

export class PushTerminal {
  /** Sent as `Cookie: token=…` on every call once set (a registered 3.x terminal: useToken). */
  private token: string | null = null;

  constructor(readonly url: string, readonly sn: string, private readonly faults: PushFaults = () => null) {}

  /** Every later call carries `Cookie: token=<md5 hex of RegistryCode+SN+SessionID>` (§2.1). */
  useToken(registryCode: string, sessionId: string): void {
    this.token = registryToken(registryCode, this.sn, sessionId);
  }

  private async call(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: string | Uint8Array, contentType = 'text/plain'): Promise<PushAnswer> {
    const qs = new URLSearchParams({ SN: this.sn, ...query }).toString();
    const cookie: Record<string, string> = this.token ? { cookie: `token=${this.token}` } : {};
    if (body instanceof Uint8Array) {
      const res = await fetch(`${this.url}${path}?${qs}`, { method, body: body as unknown as BodyInit, headers: { 'content-type': contentType, ...cookie } });
      return { status: res.status, body: await res.text(), headers: res.headers };
    }
    const headers = { ...(body !== undefined && { 'content-type': contentType }), ...cookie };
    const res = await http<unknown>(this.url, method, `${path}?${qs}`, {
      ...(body !== undefined && { body }), ...(Object.keys(headers).length > 0 && { headers }), ...this.faults(path),
    });
    return { status: res.status, body: typeof res.body === 'string' ? res.body : JSON.stringify(res.body), headers: res.headers };
  }

  handshake(pushver = '2.4.1', extra: Record<string, string> = {}): Promise<PushAnswer> {
    return this.call('GET', '/iclock/cdata', { options: 'all', pushver, language: '69', ...extra });
  }

  /** Security PUSH 3.x: the handshake, then (when answered `OK`, not `registry=ok`) /iclock/registry with its parameters. */
  handshake3(pushver = '3.1.2'): Promise<PushAnswer> {
    return this.handshake(pushver, { DeviceType: 'acc', PushOptionsFlag: '1' });
  }

  registry(options: Record<string, string>): Promise<PushAnswer> {
    return this.call('POST', '/iclock/registry', {}, Object.entries(options).map(([k, v]) => `${k}=${v}`).join(','));
  }

  /** Security PUSH 3.x: the options read after registering. */
  pushOptions(): Promise<PushAnswer> {
    return this.call('POST', '/iclock/push', {});
  }

  rtlog(events: readonly RtlogEvent[]): Promise<PushAnswer> {
    return this.upload('rtlog', rtlogBody(events));
  }

  upload(table: string, body: string | Uint8Array, opts: { stamp?: number; contentType?: string } = {}): Promise<PushAnswer> {
    return this.call('POST', '/iclock/cdata', { table, ...(opts.stamp !== undefined && { Stamp: String(opts.stamp) }) }, body, opts.contentType);
  }

  punches(punches: readonly PunchLine[], stamp?: number): Promise<PushAnswer> {
    return this.upload('ATTLOG', attlogBody(punches), { stamp });
  }

  poll(query: Record<string, string> = {}): Promise<PushAnswer> {
    return this.call('GET', '/iclock/getrequest', query);
  }

  results(lines: readonly string[]): Promise<PushAnswer> {
    return this.call('POST', '/iclock/devicecmd', {}, lines.join('\n') + '\n');
  }
}

/** The handshake's `key=value` lines (a 2.x answer's first line names the SN; a 3.x answer has none). */
export function handshakeOptions(body: string): Record<string, string> {
  return Object.fromEntries(body.split('\n').filter((l) => l.includes('=') && !l.startsWith('GET OPTION FROM')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
