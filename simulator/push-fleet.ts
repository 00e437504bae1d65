// The PUSH terminals of a simulated fleet (`npm run simulate -- --protocol push|mixed|push3`): each
// registered by serial number, handshakes, sends the punches it recorded as ATTLOG batches and
// keeps them until it reads `OK: <n>` (a lost answer means the same batch again), polls
// getrequest and answers every command, like the firmware does. Some terminals run with their
// clock a little off: the server stores the time they say, so the ground truth shifts with it.
// A Security PUSH 3.x terminal (`push3`) registers at /iclock/registry first (refused while
// pending), reads its options at /iclock/push, carries its RegistryCode's token in a cookie from
// then on, and sends its punches as `table=rtlog` events with the temperature it measured.
import { NetworkError } from './http.js';
import { handshakeOptions, parseCommands, PushTerminal, type PushFaults, type PunchLine, type RtlogEvent } from './push-client.js';
import type { GeneratedEvent } from './generate.js';
import { listAll, type Admin } from './setup.js';
import { http } from './http.js';

const MAX_LINES_PER_BATCH = 500;
const MAX_ATTEMPTS = 8;

/** What a simulated Security PUSH 3.x terminal posts to /iclock/registry. */
export const PUSH3_REGISTRY = { DeviceType: 'acc', '~DeviceName': 'SpeedFace-V5L', FirmVer: 'ZAM180-Ver1.1.17', PushVersion: '3.1.2', LockCount: '1' };

export type PushFamily = '2.x' | '3.x';

export interface PushLive {
  index: number;
  id: string;
  sn: string;
  terminal: PushTerminal;
  family: PushFamily;
  /** 3.x: refused at /iclock/registry while pending; registers there again at its next contact. */
  awaitingRegistry: boolean;
  /** 3.x: the RegistryCode and SessionID it holds once registered (its cookie token derives from them). */
  registration: { code: string; sessionId: string } | null;
  /** 3.x: the rtlog `index` of its last event. */
  rtlogIndex: number;
  /** The terminal's clock minus the true time, whole seconds. */
  clockOffsetSeconds: number;
  events: GeneratedEvent[];
  /** Events recorded and not yet acknowledged by `OK: <n>`. */
  unacked: GeneratedEvent[];
  sent: number;
  syncs: number;
  retries: number;
  commandsAnswered: number;
  failure: string | null;
}

/**
 * Registers (or finds again) `count` PUSH terminals with serial numbers `<prefix>N`. `firstContact`
 * runs before a new one is approved: it calls as an unknown terminal and is recorded as pending.
 * `pendingFirst` says it did.
 */
export async function ensurePushTerminals(admin: Admin, schoolId: number, prefix: string, count: number,
  firstContact?: (sn: string) => Promise<void>): Promise<Array<{ id: string; sn: string; pendingFirst: boolean }>> {
  const existing = new Map((await listAll<{ id: string; serial_number: string | null }>(admin, `/api/devices?school_id=${schoolId}`))
    .filter((d) => d.serial_number).map((d) => [d.serial_number!, d.id]));
  const out = [];
  for (let i = 1; i <= count; i++) {
    const sn = `${prefix}${String(i).padStart(4, '0')}`;
    let id = existing.get(sn);
    const pendingFirst = !id && firstContact !== undefined;
    if (!id) {
      if (firstContact) await firstContact(sn);
      const res = await http(admin.url, 'POST', '/api/push/terminals', { token: admin.token, body: { serial_number: sn, school_id: schoolId, name: `PUSH terminal ${sn}`, delay_seconds: 10 } });
      if (res.status !== 201) throw new Error(`register ${sn}: ${res.status} ${JSON.stringify(res.body)}`);
      id = res.body.id as string;
    }
    out.push({ id: id!, sn, pendingFirst });
  }
  return out;
}

/** The wall-clock text a terminal in `timeZone` writes for `instant`. */
export function terminalTime(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** The instant the server will store for an event of this terminal: its clock's second. */
export function storedInstant(dev: Pick<PushLive, 'clockOffsetSeconds'>, e: GeneratedEvent): Date {
  return new Date(Math.floor(e.at.getTime() / 1000) * 1000 + dev.clockOffsetSeconds * 1000);
}

/**
 * A Security PUSH 3.x terminal calling for the first time, unknown to the server: its handshake is
 * answered `OK`, its registration refused while it is pending (the server records its model and firmware).
 */
export async function push3FirstContact(url: string, sn: string): Promise<void> {
  const terminal = new PushTerminal(url, sn);
  const hello = await terminal.handshake3();
  if (hello.status !== 200 || hello.body !== 'OK') throw new Error(`${sn} unknown, handshake: ${hello.status} ${hello.body}`);
  const registry = await terminal.registry(PUSH3_REGISTRY);
  if (registry.status !== 403) throw new Error(`${sn} pending, registry: ${registry.status} ${registry.body}`);
}

export function newPushLive(index: number, device: { id: string; sn: string; pendingFirst?: boolean }, url: string, events: GeneratedEvent[], clockOffsetSeconds: number,
  faults: PushFaults, family: PushFamily = '2.x'): PushLive {
  return {
    index, id: device.id, sn: device.sn, terminal: new PushTerminal(url, device.sn, faults), family,
    awaitingRegistry: family === '3.x' && device.pendingFirst === true, registration: null, rtlogIndex: 0, clockOffsetSeconds,
    // A 2.x terminal measures no temperature; a 3.x one writes an out-of-range reading as 'not measured'
    // and keeps the punch: rows that exist to test the v4 temperature rule do not occur on either.
    events: events.filter((e) => e.expect !== 'temperature_out_of_range'),
    unacked: [], sent: 0, syncs: 0, retries: 0, commandsAnswered: 0, failure: null,
  };
}

/** Retries a call lost on the network, as firmware does after ErrorDelay (here at once). */
async function reliably<T>(dev: PushLive, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof NetworkError) || attempt >= MAX_ATTEMPTS) throw err;
      dev.retries++;
    }
  }
}

/**
 * A Security PUSH 3.x terminal's start (docs/protocol/push.md §3): the handshake; when answered
 * `OK` (or still waiting for approval) its registration, which gives its RegistryCode; the
 * handshake again (`registry=ok`, its SessionID); then its options at /iclock/push, already with
 * its token cookie, which it carries on every call from then on. False: still pending.
 */
async function register3(dev: PushLive): Promise<boolean> {
  let hello = await reliably(dev, () => dev.terminal.handshake3());
  if (hello.status !== 200) throw new Error(`handshake 3.x: ${hello.status} ${hello.body}`);
  if (hello.body === 'OK' || dev.awaitingRegistry) {
    const registry = await reliably(dev, () => dev.terminal.registry(PUSH3_REGISTRY));
    if (registry.status === 403 && registry.body === 'DEVICE NOT APPROVED') {
      dev.awaitingRegistry = true;
      return false;
    }
    if (registry.status !== 200 || !/^RegistryCode=[0-9a-f]{32}$/.test(registry.body)) throw new Error(`registry: ${registry.status} ${registry.body}`);
    dev.awaitingRegistry = false;
    hello = await reliably(dev, () => dev.terminal.handshake3());
  }
  const options = handshakeOptions(hello.body);
  if (hello.status !== 200 || hello.body.split('\n')[0] !== 'registry=ok' || !options.RegistryCode || !options.SessionID) {
    throw new Error(`handshake 3.x after registering: ${hello.status} ${hello.body}`);
  }
  dev.registration = { code: options.RegistryCode, sessionId: options.SessionID };
  dev.terminal.useToken(dev.registration.code, dev.registration.sessionId);
  const push = await reliably(dev, () => dev.terminal.pushOptions());
  if (push.status !== 200 || handshakeOptions(push.body).SessionID !== dev.registration.sessionId) throw new Error(`/iclock/push: ${push.status} ${push.body}`);
  return true;
}

/** A 3.x terminal's events for these punches: inoutstatus, face verify, its temperature (0: none measured), now and then a face it did not know. */
function rtlogEvents(dev: PushLive, batch: readonly GeneratedEvent[], timeZone: string, badgeOf: (userId: number) => string): RtlogEvent[] {
  return batch.flatMap((e) => {
    const time = terminalTime(storedInstant(dev, e), timeZone);
    const punch: RtlogEvent = {
      time, pin: badgeOf(e.userId), inout: e.type === 'checkin' ? 0 : 1, verify: 15, event: 0,
      // Not measured: 0, or 255 as some firmware writes it.
      temperature: e.temperature ?? (e.seq % 2 === 0 ? 0 : 255), index: ++dev.rtlogIndex,
    };
    // An unregistered face (pin 0, event 27) before every seventh punch: no punch, stored nowhere.
    return e.seq % 7 === 0 ? [{ time, pin: '0', event: 27, inout: 2, verify: 15, index: ++dev.rtlogIndex }, punch] : [punch];
  });
}

/** One contact of a terminal: handshake at its first, its punches recorded by `until`, then a poll with its commands answered. */
export async function pushContact(dev: PushLive, until: Date, timeZone: string, badgeOf: (userId: number) => string): Promise<void> {
  if (dev.family === '3.x' && dev.registration === null) {
    if (!(await register3(dev))) return; // pending: it keeps its punches and registers again at its next contact
  } else if (dev.syncs === 0 && dev.family === '2.x') {
    const hello = await reliably(dev, () => dev.terminal.handshake());
    if (hello.status !== 200) throw new Error(`handshake: ${hello.status} ${hello.body}`);
  }
  dev.syncs++;
  const fresh = dev.events.slice(dev.sent).filter((e) => e.at.getTime() <= until.getTime());
  dev.sent += fresh.length;
  dev.unacked.push(...fresh);
  while (dev.unacked.length > 0) {
    const batch = dev.unacked.slice(0, MAX_LINES_PER_BATCH);
    if (dev.family === '3.x') {
      // The same events again after a lost answer (the natural key keeps them once).
      const events = rtlogEvents(dev, batch, timeZone, badgeOf);
      const answer = await reliably(dev, () => dev.terminal.rtlog(events));
      if (answer.status === 503) return;
      if (answer.status !== 200 || answer.body !== 'OK') throw new Error(`rtlog: ${answer.status} ${answer.body}`);
    } else {
      const lines: PunchLine[] = batch.map((e) => ({
        pin: badgeOf(e.userId), time: terminalTime(storedInstant(dev, e), timeZone), status: e.type === 'checkin' ? 0 : 1, verify: 1,
      }));
      const answer = await reliably(dev, () => dev.terminal.punches(lines));
      if (answer.status === 503) return; // backlog full: kept for the next contact
      if (answer.status !== 200 || answer.body !== `OK: ${batch.length}`) throw new Error(`ATTLOG: ${answer.status} ${answer.body}`);
    }
    dev.unacked.splice(0, batch.length);
  }
  for (;;) {
    const poll = await reliably(dev, () => dev.terminal.poll());
    if (poll.status !== 200) throw new Error(`getrequest: ${poll.status} ${poll.body}`);
    const commands = parseCommands(poll.body);
    if (commands.length === 0) return;
    const answer = await reliably(dev, () => dev.terminal.results(commands.map((c) => `ID=${c.id}&Return=0&CMD=${c.command.split(' ')[0]}`)));
    if (answer.status !== 200) throw new Error(`devicecmd: ${answer.status} ${answer.body}`);
    dev.commandsAnswered += commands.length;
  }
}

/**
 * A 3.x terminal of an earlier run carries its RegistryCode's token, which this run's simulated
 * terminal no longer knows: like a terminal reset to factory settings, it registers again without
 * it, and staff confirm its address first (docs/protocol/push.md §2.1), which lifts the requirement.
 */
export async function confirmTokenlessTerminal(admin: Admin, deviceId: string): Promise<void> {
  const state = await http(admin.url, 'GET', `/api/devices/${deviceId}/push`, { token: admin.token });
  if (state.status !== 200) throw new Error(`terminal ${deviceId}: ${state.status} ${JSON.stringify(state.body)}`);
  const binding = state.body.binding as { registry_token_required: boolean; bound_address: string | null };
  if (!binding.registry_token_required || !binding.bound_address) return;
  const res = await http(admin.url, 'POST', `/api/push/terminals/${deviceId}/address`, { token: admin.token, body: { address: binding.bound_address } });
  if (res.status >= 300) throw new Error(`confirm the address of ${deviceId}: ${res.status} ${JSON.stringify(res.body)}`);
}
