// Who may call (docs/protocol/push.md §1–§2, docs/SECURITY.md "/iclock"): a registered, enabled
// terminal, from its allowed networks, from where it is bound (issue #33 §4), with its
// RegistryCode's token once it carries one (PUSH 3.x). Every route admits its caller here.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { bindAddress, markConflict, recordAddressClaim, requireRegistryToken } from '../../db/repositories/push/terminal-address.js';
import { findTerminal, noteContact, type TerminalLookup } from '../../db/repositories/push/terminals.js';
import { isSerialNumber } from '../../shared/protocol/push.js';
import type { AppContext } from '../context/context.js';
import { addressMatches } from './address.js';
import { DISABLED, EMPTY, EMPTY_QUERY, NOT_APPROVED, type PushRequest } from './answer.js';
import type { Caller } from './body.js';

export type Admitted = TerminalLookup & { device_id: string; school_id: number };

/**
 * Security PUSH 3.x firmware (`DeviceType=acc`, `pushver=3.…`: SpeedFace, SenseFace, ProFace and
 * access panels) registers through /iclock/registry and reads a different option list.
 */
export function isPush3(query: URLSearchParams, options: Record<string, string> = {}): boolean {
  const deviceType = query.get('DeviceType') ?? query.get('devicetype') ?? options.DeviceType ?? options['~DeviceType'];
  if (deviceType?.toLowerCase() === 'acc') return true;
  const version = query.get('pushver') ?? options.PushVersion ?? options.pushver ?? '';
  return /^[3-9]\./.test(version);
}

/** A new RegistryCode and SessionID for a Security PUSH 3.x terminal (kept with it: issueRegistryCode). */
export function freshRegistryCode(): { code: string; sessionId: string } {
  return { code: randomBytes(16).toString('hex'), sessionId: randomBytes(16).toString('hex').toUpperCase() };
}

/**
 * The token a Security PUSH 3.x terminal sends in its `Cookie: token=…` once registered, as the
 * vendor's notes give it: MD5 of RegistryCode, serial number and SessionID, in hex.
 */
function registryToken(terminal: TerminalLookup): string | null {
  if (!terminal.registry_code || !terminal.session_id) return null;
  return createHash('md5').update(`${terminal.registry_code}${terminal.serial_number}${terminal.session_id}`).digest('hex');
}

function tokenValid(terminal: TerminalLookup, token: string | null): boolean {
  // Most calls carry no token (every 2.x terminal): no hash computed for them.
  if (!token || token.length !== 32) return false;
  const expected = registryToken(terminal);
  if (!expected) return false;
  return timingSafeEqual(Buffer.from(token.toLowerCase()), Buffer.from(expected));
}

export function tokenOf(cookie: string | undefined): string | null {
  const m = cookie ? /(?:^|;\s*)token=([^;\s]{1,128})/i.exec(cookie) : null;
  return m ? m[1] : null;
}

/**
 * Whether a registered terminal's call comes from where the terminal is (issue #33 §4,
 * docs/SECURITY.md "/iclock"): 'ok'; 'bind' (not bound yet: this address becomes its own);
 * 'held' (another address, or its bound address while another one claims the SN and staff have
 * not confirmed either); 'no_token' (a PUSH 3.x terminal that carries its RegistryCode's token
 * called without it). Pure: from the terminal's (cached) record.
 */
type Verdict = 'ok' | 'bind' | 'held' | 'no_token' | 'conflict';
function verdictOf(terminal: TerminalLookup, req: PushRequest, windowSeconds: number, now = Date.now()): Verdict {
  if (terminal.registry_token_required && !tokenValid(terminal, req.token)) return 'no_token';
  if (terminal.address_binding === 'off') return 'ok';
  if (terminal.bound_address === null) return req.address ? 'bind' : 'held';
  if (!addressMatches(terminal.address_binding, terminal.bound_address, req.address)) return 'held';
  // Its own address, while another one claimed it lately: two places at once (flagged by admit).
  if (!terminal.conflict && terminal.claimed_at && now - terminal.claimed_at.getTime() < windowSeconds * 1000) return 'conflict';
  if (terminal.conflict && !trusted(terminal)) return 'held';
  return 'ok';
}

/** A bound address staff confirmed, or a terminal proving itself with its token: kept going through a conflict. */
function trusted(terminal: TerminalLookup): boolean {
  return terminal.bound_confirmed || terminal.registry_token_required;
}

const allowListCache = new Map<string, BlockList>();
/** The terminal's allow-list of source networks, when it has one. */
function addressAllowed(terminal: TerminalLookup, address: string | null): boolean {
  if (!terminal.allowed_networks || terminal.allowed_networks.length === 0) return true;
  if (!address || !isIP(address)) return false;
  const key = terminal.allowed_networks.join(',');
  let list = allowListCache.get(key);
  if (!list) {
    list = new BlockList();
    for (const cidr of terminal.allowed_networks) {
      const [net, bits] = cidr.split('/');
      const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
      list.addSubnet(net, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type);
    }
    if (allowListCache.size > 10_000) allowListCache.clear();
    allowListCache.set(key, list);
  }
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** A registered, enabled terminal calling from an allowed address, or the refusal docs/protocol/push.md §1–§2 gives. */
export function approved(terminal: TerminalLookup | undefined, address: string | null): Admitted {
  if (!terminal || terminal.device_id === null || terminal.school_id === null) throw NOT_APPROVED;
  if (terminal.disabled) throw DISABLED;
  if (!addressAllowed(terminal, address)) throw NOT_APPROVED;
  return terminal as Admitted;
}

/** The terminal looked up, read fresh, admitted or refused: what every route asks before it acts. */
export class TerminalAccess {
  private readonly conflictWindow: number;

  constructor(private readonly ctx: AppContext) {
    this.conflictWindow = ctx.config.pushConflictWindowSeconds;
  }

  /** The terminal as the database has it now. */
  find(sn: string): Promise<TerminalLookup | undefined> {
    return findTerminal(this.ctx.db, sn);
  }

  versionOf(req: PushRequest, reported: string | null = null): string | null {
    return (req.query.get('pushver') ?? reported)?.slice(0, 32) ?? null;
  }

  /**
   * The terminal read fresh. An unknown or pending SN is recorded (first contact, always kept:
   * db/repositories/push.ts noteContact); a registered one is noted only once admitted.
   */
  async fresh(req: PushRequest, sn: string, reportedVersion: string | null = null): Promise<TerminalLookup | undefined> {
    const { db, push: cache } = this.ctx;
    cache.forget(sn);
    const terminal = await findTerminal(db, sn);
    if (terminal?.device_id) return terminal;
    await noteContact(db, { schoolId: null, serialNumber: sn, address: req.address, pushVersion: this.versionOf(req, reportedVersion) });
    return findTerminal(db, sn);
  }

  /** From the cache when it admits the call as it stands; else read fresh (refusals are always read fresh). */
  async lookup(req: PushRequest, sn: string): Promise<TerminalLookup | undefined> {
    const cached = await this.ctx.push.lookup(sn);
    if (cached?.device_id && !cached.disabled && addressAllowed(cached, req.address) && verdictOf(cached, req, this.conflictWindow) === 'ok') return cached;
    return this.fresh(req, sn);
  }

  /**
   * A registered, enabled terminal calling from where it is (issue #33 §4), or the refusal: not
   * approved, disabled, outside its allowed networks, from an address it is not bound to, or
   * without its RegistryCode's token. A held call is remembered as a claim (shown to staff) and
   * answered `403 DEVICE NOT APPROVED`: the terminal keeps its punches, nothing is stored,
   * no command is sent and no result applied.
   */
  async admit(terminal: TerminalLookup | undefined, req: PushRequest): Promise<Admitted> {
    const { db, logger, push: cache } = this.ctx;
    const conflictWindow = this.conflictWindow;
    let known = approved(terminal, req.address);
    let verdict = verdictOf(known, req, conflictWindow);
    if (verdict === 'bind') {
      if (await bindAddress(db, known.school_id, known.serial_number, req.address!)) {
        cache.forget(known.serial_number);
        logger.info({ sn: known.serial_number, address: req.address }, 'push: terminal bound to the address of its first call');
        return { ...known, bound_address: req.address };
      }
      // Another call bound it first: judged against that one.
      known = approved(await findTerminal(db, known.serial_number), req.address);
      verdict = verdictOf(known, req, conflictWindow);
    }
    if (verdict === 'conflict') {
      await markConflict(db, known.school_id, known.serial_number, conflictWindow);
      cache.forget(known.serial_number);
      logger.warn({ sn: known.serial_number, address: req.address }, 'push: serial number used from two places at once');
      if (!trusted(known)) throw NOT_APPROVED;
      verdict = 'ok';
    }
    if (verdict === 'ok') {
      if (!known.registry_token_required && known.registry_code && tokenValid(known, req.token)) {
        await requireRegistryToken(db, known.school_id, known.serial_number);
        cache.forget(known.serial_number);
      }
      return known;
    }
    const { conflict } = await recordAddressClaim(db, {
      schoolId: known.school_id, serialNumber: known.serial_number, address: req.address, withoutToken: verdict === 'no_token', windowSeconds: conflictWindow,
    });
    // This process reads it again at once (the others at the NOTIFY): the bound address's next call sees the claim.
    cache.forget(known.serial_number);
    logger.warn({ sn: known.serial_number, address: req.address, bound: known.bound_address, verdict, conflict }, 'push: call held (not where the terminal is bound)');
    throw NOT_APPROVED;
  }

  /** Who calls, read before the body (api/push/body.ts): a registered terminal calling from an allowed address, or not. */
  async callerOf(sn: string | null, address: string | null, token: string | null): Promise<Caller | 'bad_sn'> {
    if (!isSerialNumber(sn)) return 'bad_sn';
    const terminal = await this.ctx.push.lookup(sn);
    if (terminal?.disabled) return 'disabled';
    if (!terminal?.device_id || !addressAllowed(terminal, address)) return 'unregistered';
    // Held calls are read like a stranger's: their uploads are refused unread.
    const verdict = verdictOf(terminal, { query: EMPTY_QUERY, body: EMPTY, address, token }, this.conflictWindow);
    return verdict === 'held' || verdict === 'no_token' || (verdict === 'conflict' && !trusted(terminal)) ? 'unregistered' : 'registered';
  }
}
