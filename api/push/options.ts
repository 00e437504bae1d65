// The options a terminal reads (docs/protocol/push.md §3): the handshake (GET /iclock/cdata) of
// every terminal and, for Security PUSH 3.x firmware, /iclock/push after it registered.
import { issueRegistryCode } from '../../db/repositories/push/terminal-address.js';
import { noteContact, noteTimeZoneSent, type TerminalLookup } from '../../db/repositories/push/terminals.js';
import { pushTimeZone } from '../../shared/protocol/push.js';
import { DISABLED, PushAnswer, serialOf, type PushRequest } from './answer.js';
import type { PushHandler, PushRoutes } from './route.js';
import { freshRegistryCode, isPush3 } from './terminal-access.js';
import { VERSION } from '../../shared/version.js';


// Handshake (docs/protocol/push.md §3). A pending terminal gets its options too, so that it can report its
// model and firmware (options upload, INFO); its uploads are refused until it is approved.
const handshake: PushHandler = async (req, { ctx, access }) => {
  const { db } = ctx;
  const sn = serialOf(req);
  let terminal = await access.fresh(req, sn);
  if (terminal?.disabled) throw DISABLED;
  if (terminal?.device_id) {
    terminal = await access.admit(terminal, req);
    await noteContact(db, { schoolId: terminal.school_id, serialNumber: sn, address: req.address, pushVersion: access.versionOf(req) });
  }
  const timezone = terminal?.device_id ? terminal.timezone : 'UTC';
  const timeZone = pushTimeZone(timezone, new Date());
  if (terminal?.device_id && terminal.school_id !== null) await noteTimeZoneSent(db, terminal.school_id, sn, timeZone.minutes);
  if (isPush3(req.query)) {
    // Its cue to register (PUSH 3.x §7.1): an unknown or pending terminal posts /iclock/registry next.
    if (!terminal?.device_id || terminal.school_id === null) return new PushAnswer(200, 'OK');
    const codes = await issueRegistryCode(db, terminal.school_id, sn, freshRegistryCode());
    ctx.push.forget(sn);
    return new PushAnswer(200, ['registry=ok', `RegistryCode=${codes!.code}`, ...push3Options(terminal, req, timeZone.option, codes!.sessionId)].join('\n') + '\n');
  }
  return new PushAnswer(200, [
    `GET OPTION FROM: ${sn}`,
    `ATTLOGStamp=${terminal?.attlog_stamp ?? 0}`,
    `OPERLOGStamp=${terminal?.operlog_stamp ?? 0}`,
    `ATTPHOTOStamp=${terminal?.attphoto_stamp ?? 0}`,
    'ErrorDelay=30',
    `Delay=${terminal?.delay_seconds ?? 10}`,
    'TransTimes=00:00;14:05',
    'TransInterval=1',
    'TransFlag=TransData AttLog OpLog EnrollUser ChgUser UserPic',
    'Realtime=1',
    'Encrypt=None',
    `TimeZone=${timeZone.option}`,
    `ServerVer=${VERSION}`,
  ].join('\n') + '\n');
};

// PUSH 3.x reads its options here after registering (what a 2.x terminal reads at the handshake).
const pushOptions: PushHandler = async (req, { ctx, access }) => {
  const sn = serialOf(req);
  const found = await access.fresh(req, sn);
  if (found?.disabled) throw DISABLED;
  if (!found?.device_id) return new PushAnswer(200, 'OK');
  const terminal = await access.admit(found, req);
  const timeZone = pushTimeZone(terminal.timezone, new Date());
  await noteTimeZoneSent(ctx.db, terminal.school_id, sn, timeZone.minutes);
  const codes = await issueRegistryCode(ctx.db, terminal.school_id, sn, freshRegistryCode());
  return new PushAnswer(200, push3Options(terminal, req, timeZone.option, codes!.sessionId).join('\n') + '\n');
};

/**
 * The option list of a Security PUSH 3.x terminal (its handshake after `registry=ok`, and
 * /iclock/push): the same settings as a 2.x handshake under the names this firmware reads.
 */
function push3Options(terminal: TerminalLookup & { device_id: string | null }, req: PushRequest, timeZone: number, sessionId: string): string[] {
  const version = req.query.get('pushver');
  return [
    `ServerVersion=${VERSION}`,
    'ServerName=attendance-sync',
    `PushProtVer=${version && /^[0-9.]{1,16}$/.test(version) ? version : '3.1.2'}`,
    'ErrorDelay=30',
    `RequestDelay=${terminal.delay_seconds}`,
    'TransTimes=00:00;14:05',
    'TransInterval=1',
    'TransTables=User Transaction',
    'Realtime=1',
    `SessionID=${sessionId}`,
    'TimeoutSec=10',
    `TimeZone=${timeZone}`,
  ];
}

export function optionRoutes(push: PushRoutes): void {
  push.add({ method: 'GET', path: 'cdata', summary: 'Handshake: the options a terminal runs with', handler: handshake });
  push.add({ method: '*', path: 'push', summary: 'PUSH 3.x: the options after registering', handler: pushOptions });
}
