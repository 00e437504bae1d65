// The PUSH terminals of a simulated fleet (`npm run simulate -- --protocol push|mixed`): each
// registered by serial number, handshakes, sends the punches it recorded as ATTLOG batches and
// keeps them until it reads `OK: <n>` (a lost answer means the same batch again), polls
// getrequest and answers every command, like the firmware does. Some terminals run with their
// clock a little off: the server stores the time they say, so the ground truth shifts with it.
import { NetworkError } from './http.js';
import { parseCommands, PushTerminal, type PushFaults, type PunchLine } from './push-client.js';
import type { GeneratedEvent } from './generate.js';
import { listAll, type Admin } from './setup.js';
import { http } from './http.js';

const MAX_LINES_PER_BATCH = 500;
const MAX_ATTEMPTS = 8;

export interface PushLive {
  index: number;
  id: string;
  sn: string;
  terminal: PushTerminal;
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

/** Registers (or finds again) `count` PUSH terminals with serial numbers `<prefix>N`. */
export async function ensurePushTerminals(admin: Admin, schoolId: number, prefix: string, count: number): Promise<Array<{ id: string; sn: string }>> {
  const existing = new Map((await listAll<{ id: string; serial_number: string | null }>(admin, `/api/devices?school_id=${schoolId}`))
    .filter((d) => d.serial_number).map((d) => [d.serial_number!, d.id]));
  const out = [];
  for (let i = 1; i <= count; i++) {
    const sn = `${prefix}${String(i).padStart(4, '0')}`;
    let id = existing.get(sn);
    if (!id) {
      const res = await http(admin.url, 'POST', '/api/push/terminals', { token: admin.token, body: { serial_number: sn, school_id: schoolId, name: `PUSH terminal ${sn}`, delay_seconds: 10 } });
      if (res.status !== 201) throw new Error(`register ${sn}: ${res.status} ${JSON.stringify(res.body)}`);
      id = res.body.id as string;
    }
    out.push({ id: id!, sn });
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

export function newPushLive(index: number, device: { id: string; sn: string }, url: string, events: GeneratedEvent[], clockOffsetSeconds: number, faults: PushFaults): PushLive {
  return {
    index, id: device.id, sn: device.sn, terminal: new PushTerminal(url, device.sn, faults), clockOffsetSeconds,
    // A PUSH terminal measures no temperature: rows that exist to test the temperature rule do not occur on it.
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

/** One contact of a terminal: handshake at its first, its punches recorded by `until`, then a poll with its commands answered. */
export async function pushContact(dev: PushLive, until: Date, timeZone: string, badgeOf: (userId: number) => string): Promise<void> {
  if (dev.syncs === 0) {
    const hello = await reliably(dev, () => dev.terminal.handshake());
    if (hello.status !== 200) throw new Error(`handshake: ${hello.status} ${hello.body}`);
  }
  dev.syncs++;
  const fresh = dev.events.slice(dev.sent).filter((e) => e.at.getTime() <= until.getTime());
  dev.sent += fresh.length;
  dev.unacked.push(...fresh);
  while (dev.unacked.length > 0) {
    const batch = dev.unacked.slice(0, MAX_LINES_PER_BATCH);
    const lines: PunchLine[] = batch.map((e) => ({
      pin: badgeOf(e.userId), time: terminalTime(storedInstant(dev, e), timeZone), status: e.type === 'checkin' ? 0 : 1, verify: 1,
    }));
    const answer = await reliably(dev, () => dev.terminal.punches(lines));
    if (answer.status === 503) return; // backlog full: kept for the next contact
    if (answer.status !== 200 || answer.body !== `OK: ${batch.length}`) throw new Error(`ATTLOG: ${answer.status} ${answer.body}`);
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
