// PUSH (ZKTeco-compatible) terminals as backoffice sees them (docs/protocol/push.md §2, §5): terminals that
// called before being registered (pending, with address, model and firmware), registering one by
// serial number (in advance or approving a pending one), moving it, its allow-list of source
// networks; per terminal: what it reported, its command history with results, direct commands,
// and its own user list compared with the school's roster.
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { allowedNetworksOf, findDevice, updateDevice } from '../../db/repositories/devices.js';
import { cancelCommand, listCommands, queueCommands } from '../../db/repositories/push/commands.js';
import { addressConfirmations, confirmAddress } from '../../db/repositories/push/terminal-address.js';
import { rosterDifferences, terminalUsersToImport } from '../../db/repositories/push/terminal-users.js';
import { deletePendingTerminal, listPendingTerminals, moveSerial, notifyTerminal, registerTerminal, terminalState, updateTerminalSettings } from '../../db/repositories/push/terminals.js';
import { listUploads } from '../../db/repositories/push/uploads.js';
import { findSchool } from '../../db/repositories/schools.js';
import { importHeldForUser } from '../../db/repositories/held-punches.js';
import { insertUsersIfBadgeFree } from '../../db/repositories/users.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { notFound, Problem, validationFailed } from '../../shared/errors.js';
import { SERIAL_NUMBER } from '../../shared/protocol/push.js';
import { isValidTimeZone } from '../../shared/time/zoned.js';
import type { DbOrTrx } from '../../db/database.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest } from '../http/scope.js';
import { ADDRESS_BINDINGS } from '../push/address.js';
import { PUSH_COMMANDS } from '../../shared/protocol/push-commands.js';
import { errors, pageOf, timestamp, uuidParam } from '../schemas/common.js';
import { deviceSchema, userSchema } from '../schemas/resources.js';

const cidr = z.string().max(64).refine((value) => {
  const [net, bits, extra] = value.split('/');
  const family = isIP(net ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || n > (family === 6 ? 128 : 32)) return false;
  try {
    new BlockList().addSubnet(net, n, family === 6 ? 'ipv6' : 'ipv4');
    return true;
  } catch {
    return false;
  }
}, 'expected an IP address or a CIDR network such as 192.168.1.0/24');
const timezone = z.string().max(64).refine(isValidTimeZone, 'not an IANA timezone');
const serialNumber = z.string().regex(SERIAL_NUMBER, '1–64 characters A-Z a-z 0-9');
const addressBinding = z.enum(ADDRESS_BINDINGS).describe(
  'How the terminal is bound to the address it calls from (docs/SECURITY.md, /iclock): exact, network (the /24 or /64 around it, the default) or off. '
  + 'Bound to the address it was pending at when approved, else to its first call; a call from elsewhere is held until staff confirm the address');

const registerBody = z.strictObject({
  serial_number: serialNumber,
  school_id: z.number().int().positive(),
  name: z.string().min(1).max(200),
  timezone: timezone.optional().describe('Only when it differs from the school\'s'),
  allowed_networks: z.array(cidr).max(32).optional().describe('Source networks the terminal may call from; absent: any'),
  delay_seconds: z.number().int().min(1).max(3600).optional().describe('Seconds between command polls (handshake Delay=), default 10'),
  address_binding: addressBinding.optional(),
});
const updateBody = z.strictObject({
  school_id: z.number().int().positive().optional().describe('Moves the terminal: punches it sends from now on belong to the new school; those held stay where they are'),
  name: z.string().min(1).max(200).optional(),
  timezone: timezone.nullable().optional(),
  allowed_networks: z.array(cidr).max(32).nullable().optional(),
  delay_seconds: z.number().int().min(1).max(3600).optional(),
  address_binding: addressBinding.optional(),
});

const pendingSchema = z.object({
  serial_number: z.string(),
  first_seen_at: timestamp,
  last_seen_at: timestamp.nullable(),
  address: z.string().nullable().describe('The address it last called from'),
  model: z.string().nullable().describe('~DeviceName from its options'),
  firmware: z.string().nullable(),
  push_version: z.string().nullable(),
}).meta({ id: 'PendingTerminal' });

const commandSchema = z.object({
  id: z.number().int().describe('The C:<id> the terminal sees'),
  command: z.string(),
  source: z.enum(['staff', 'flag', 'roster', 'clock']).describe('clock: the TimeZone option sent again at a DST change'),
  flag_id: z.number().int().nullable(),
  status: z.enum(['queued', 'sent', 'succeeded', 'failed', 'cancelled']),
  sends: z.number().int(),
  created_at: timestamp,
  last_sent_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  return_code: z.number().int().nullable().describe('0 success; negative failure (-1 unsupported or no data, -2 file error, -1002 bad syntax, -1004 table not supported)'),
  result_content: z.string().nullable().describe('A shell command\'s output'),
  failure: z.string().nullable(),
}).meta({ id: 'PushCommand' });

const terminalSchema = z.object({
  serial_number: z.string(),
  first_seen_at: timestamp,
  last_seen_at: timestamp.nullable(),
  address: z.string().nullable(),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  push_version: z.string().nullable(),
  options: z.record(z.string(), z.string()).nullable().describe('What the terminal reported (options uploads, INFO)'),
  stamps: z.object({ ATTLOG: z.number().int(), OPERLOG: z.number().int(), ATTPHOTO: z.number().int() }),
  delay_seconds: z.number().int(),
  allowed_networks: z.array(z.string()).nullable(),
  binding: z.object({
    mode: addressBinding,
    bound_address: z.string().nullable().describe('Where its calls must come from; null: bound at its next call'),
    confirmed: z.boolean().describe('Staff confirmed it (approving the pending terminal seen there, or POST …/address)'),
    bound_seen_at: timestamp.nullable(),
    claimed_address: z.string().nullable().describe('Another address that called for it: its calls are held'),
    claimed_since: timestamp.nullable(),
    claimed_at: timestamp.nullable(),
    conflict_at: timestamp.nullable().describe('The bound address kept calling while the other one did: two places at once'),
    registry_token_required: z.boolean().describe('Security PUSH 3.x: it sends the token of its RegistryCode, so every call must'),
    confirmations: z.array(z.object({ address: z.string(), previous_address: z.string().nullable(), confirmed_at: timestamp, confirmed_by: z.string().nullable() }))
      .describe('Who confirmed which address, newest first'),
  }),
}).meta({ id: 'PushTerminal' });

/** Of each kept upload's body, this much is shown (a terminal's upload is at most PUSH_MAX_BODY_BYTES). */
const UPLOAD_TEXT_BYTES = 64 * 1024;

const uploadSchema = z.object({
  id: z.number().int(),
  table: z.string().describe('The table= the terminal named (rtstate, tabledata:user, BIODATA …)'),
  received_at: timestamp,
  bytes: z.number().int(),
  text: z.string().describe(`The body as UTF-8 text, its first ${UPLOAD_TEXT_BYTES / 1024} KiB`),
}).meta({ id: 'PushUpload' });

const differenceSchema = z.object({
  pin: z.string(),
  user_id: z.number().int().nullable(),
  roster_name: z.string().nullable(),
  terminal_name: z.string().nullable(),
  difference: z.enum(['missing_on_terminal', 'unknown_to_roster', 'name_differs']),
});

const importBody = z.strictObject({
  pins: z.array(z.string().min(1).max(64)).min(1).max(1000)
    .describe('PINs staff confirmed, each unknown_to_roster on this terminal (GET …/terminal-users); a PIN already in the roster is skipped'),
});
const importSchema = z.object({
  created: z.array(userSchema).describe('Users created in the terminal\'s school: badge = PIN, name = the terminal\'s name for it'),
  skipped: z.array(z.string()).describe('PINs already in the roster: nothing created'),
});

async function pushDeviceInScope(db: DbOrTrx, auth: StaffAuth, id: string) {
  const schoolId = await schoolOfRequest(db, auth, 'devices', id);
  const device = schoolId === null ? undefined : await findDevice(db, schoolId, id);
  assertInScope(auth, device?.school_id, 'device');
  if (device!.protocol !== 'push') throw notFound('PUSH terminal');
  return device!;
}

export function pushTerminalRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/push/pending', summary: 'Terminals that called but are not registered yet (docs/protocol/push.md §2)', tags: ['push'], auth: 'backoffice',
    responses: { 200: { description: 'Most recent first', schema: z.object({ items: z.array(pendingSchema) }) }, ...errors(401, 403) },
    async handler({ db }) {
      return reply.ok({ items: await listPendingTerminals(db) });
    },
  });

  api.add({
    method: 'delete', path: '/api/push/pending/:sn', summary: 'Forget a pending terminal (it is pending again if it calls again)', tags: ['push'], auth: 'backoffice',
    params: z.object({ sn: serialNumber }),
    responses: { 204: { description: 'Forgotten' }, ...errors(401, 403, 404) },
    async handler({ params, db }) {
      if (!(await deletePendingTerminal(db, params.sn))) throw notFound('pending terminal');
      return reply.noContent();
    },
  });

  api.add({
    method: 'post', path: '/api/push/terminals', summary: 'Register a PUSH terminal by serial number, or approve a pending one', tags: ['push'], auth: 'backoffice',
    body: registerBody,
    responses: { 201: { description: 'The terminal\'s device (kind terminal, protocol push)', schema: deviceSchema }, ...errors(401, 403, 409, 422) },
    async handler({ body, db }) {
      const trx = db;
      if (!(await findSchool(trx, body.school_id))) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      const deviceId = await registerTerminal(trx, {
        serialNumber: body.serial_number, schoolId: body.school_id, name: body.name, timezone: body.timezone ?? null,
        allowedNetworks: body.allowed_networks ?? null, delaySeconds: body.delay_seconds, addressBinding: body.address_binding,
        // Never used by the PUSH protocol (terminals know only their SN); kept so the column's rule holds.
        secretHash: hashDeviceSecret(generateDeviceSecret()),
      });
      if (!deviceId) throw new Problem('conflict', `Serial number ${body.serial_number} is already registered`);
      await notifyTerminal(trx, { serialNumber: body.serial_number });
      return reply.created(await findDevice(trx, body.school_id, deviceId));
    },
  });

  api.add({
    method: 'patch', path: '/api/push/terminals/:id', summary: 'Move a PUSH terminal, change its timezone, allow-list, address binding or poll delay', tags: ['push'], auth: 'backoffice',
    params: uuidParam, body: updateBody,
    responses: { 200: { description: 'Updated', schema: deviceSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db, auth, ctx }) {
      const trx = db;
      const device = await pushDeviceInScope(trx, auth, params.id);
      if (body.school_id !== undefined && !(await findSchool(trx, body.school_id))) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      const updated = await updateDevice(trx, device.school_id, device.id, {
        ...(body.school_id !== undefined && { school_id: body.school_id }),
        ...(body.name !== undefined && { name: body.name }),
        ...(body.timezone !== undefined && { timezone: body.timezone }),
        ...(body.allowed_networks !== undefined && { allowed_networks: body.allowed_networks }),
      });
      const moved = body.school_id !== undefined && body.school_id !== device.school_id;
      // Its terminal row moved with the device (ON UPDATE CASCADE); the directory says so too.
      if (moved) await moveSerial(trx, device.serial_number!, body.school_id!);
      await updateTerminalSettings(trx, body.school_id ?? device.school_id, device.id, {
        delaySeconds: body.delay_seconds, movedSchool: moved, addressBinding: body.address_binding,
      });
      // Every api process caches terminals (api/context/poll-cache.ts): the others forget this one
      // when the NOTIFY reaches them, this one before it answers, so that a call sent after this
      // answer meets the new binding or allow-list here whatever the notification's delay.
      await notifyTerminal(trx, { serialNumber: device.serial_number!, deviceId: device.id });
      ctx.push.forget(device.serial_number!);
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/push/terminals/:id/address',
    summary: 'Confirm where a PUSH terminal is: its bound address (the other caller is dismissed) or the one that claimed it (the binding moves); held calls from it go through again',
    tags: ['push'], auth: 'backoffice',
    params: uuidParam, body: z.strictObject({ address: z.string().min(1).max(64).describe('The bound or the claimed address, as GET /api/devices/:id/push shows them') }),
    responses: { 200: { description: 'Confirmed', schema: deviceSchema }, ...errors(401, 403, 404, 409, 422) },
    async handler({ params, body, db, auth }) {
      const trx = db;
      const device = await pushDeviceInScope(trx, auth, params.id);
      const done = await confirmAddress(trx, device.school_id, device.id, body.address, auth.staffId);
      if (!done) throw new Problem('conflict', `${body.address} is neither the address the terminal is bound to nor the one that claimed it (it may have changed since)`);
      return reply.ok(await findDevice(trx, device.school_id, device.id));
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id/push', summary: 'What a PUSH terminal reported, its cursors and settings', tags: ['push'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'The terminal', schema: terminalSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const { school_id: schoolId } = await pushDeviceInScope(db, auth, params.id);
      const state = await terminalState(db, schoolId, params.id);
      if (!state) throw notFound('PUSH terminal');
      const allowedNetworks = await allowedNetworksOf(db, schoolId, params.id);
      return reply.ok({
        serial_number: state.serial_number, first_seen_at: state.first_seen_at, last_seen_at: state.last_seen_at, address: state.address,
        model: state.model, firmware: state.firmware, push_version: state.push_version, options: state.options,
        stamps: { ATTLOG: Number(state.attlog_stamp), OPERLOG: Number(state.operlog_stamp), ATTPHOTO: Number(state.attphoto_stamp) },
        delay_seconds: state.delay_seconds, allowed_networks: allowedNetworks,
        binding: {
          mode: state.address_binding, bound_address: state.bound_address, confirmed: state.bound_confirmed, bound_seen_at: state.bound_seen_at,
          claimed_address: state.claimed_address, claimed_since: state.claimed_since, claimed_at: state.claimed_at, conflict_at: state.conflict_at,
          registry_token_required: state.registry_token_seen_at !== null, confirmations: await addressConfirmations(db, schoolId, params.id),
        },
      });
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id/commands', summary: 'A PUSH terminal\'s commands with their results, newest first', tags: ['push'], auth: 'staff',
    params: uuidParam, query: z.object({ ...pageQuery }),
    responses: { 200: { description: 'A page of commands', schema: pageOf(commandSchema) }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      const { school_id: schoolId } = await pushDeviceInScope(db, auth, params.id);
      const before = decodeCursor(query.cursor, z.number().int());
      const rows = await listCommands(db, schoolId, params.id, { beforeId: before, limit: query.limit + 1 });
      const page = toPage(rows, query.limit, (c) => c.id);
      return reply.ok({
        ...page,
        items: page.items.map((c) => ({
          id: c.id, command: c.command, source: c.source, flag_id: c.flag_id, status: c.status, sends: c.sends, created_at: c.created_at,
          last_sent_at: c.last_sent_at, finished_at: c.finished_at, return_code: c.return_code, result_content: c.result_content, failure: c.failure,
        })),
      });
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/commands', summary: 'Queue a command for a PUSH terminal (sent at its next poll)', tags: ['push'], auth: 'backoffice',
    params: uuidParam, body: z.strictObject({ command: z.enum(PUSH_COMMANDS) }),
    responses: { 201: { description: 'Queued', schema: z.object({ id: z.number().int(), command: z.string(), status: z.literal('queued') }) }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db, auth }) {
      const trx = db;
      await pushDeviceInScope(trx, auth, params.id);
      const [id] = await queueCommands(trx, params.id, [{ command: body.command, source: 'staff', createdBy: auth.staffId }]);
      await notifyTerminal(trx, { deviceId: params.id });
      return reply.created({ id, command: body.command, status: 'queued' as const });
    },
  });

  api.add({
    method: 'delete', path: '/api/devices/:id/commands/:commandId', summary: 'Cancel a command not sent yet', tags: ['push'], auth: 'backoffice',
    params: z.object({ id: z.uuid(), commandId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
    responses: { 204: { description: 'Cancelled' }, ...errors(401, 403, 404, 409) },
    async handler({ params, db, auth }) {
      const { school_id: schoolId } = await pushDeviceInScope(db, auth, params.id);
      if (!(await cancelCommand(db, schoolId, params.id, params.commandId))) throw new Problem('conflict', 'No such command waiting to be sent');
      return reply.noContent();
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id/push/uploads', summary: 'Uploads of tables the server does not import, kept as the terminal sent them, newest first', tags: ['push'], auth: 'staff',
    params: uuidParam, query: z.object({ ...pageQuery }),
    responses: { 200: { description: 'A page of uploads', schema: pageOf(uploadSchema) }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      const { school_id: schoolId } = await pushDeviceInScope(db, auth, params.id);
      const before = decodeCursor(query.cursor, z.number().int());
      const rows = await listUploads(db, schoolId, params.id, { beforeId: before, limit: query.limit + 1, maxBytes: UPLOAD_TEXT_BYTES });
      const page = toPage(rows, query.limit, (u) => u.id);
      return reply.ok({
        ...page,
        items: page.items.map((u) => ({ id: u.id, table: u.table_name, received_at: u.received_at, bytes: u.body_bytes, text: u.text })),
      });
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id/terminal-users', summary: 'The terminal\'s own user list against the school\'s roster: the differences', tags: ['push'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'One row per PIN that differs', schema: z.object({ items: z.array(differenceSchema) }) }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const { school_id: schoolId } = await pushDeviceInScope(db, auth, params.id);
      return reply.ok({ items: await rosterDifferences(db, schoolId, params.id) });
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/terminal-users/import',
    summary: 'Add users the terminal holds but the roster lacks (unknown_to_roster) to the terminal\'s school, as staff confirmed them', tags: ['push'], auth: 'staff',
    params: uuidParam, body: importBody,
    responses: { 201: { description: 'Created (and skipped) users', schema: importSchema }, ...errors(401, 404, 422) },
    async handler({ params, body, db, auth }) {
      const trx = db;
      const device = await pushDeviceInScope(trx, auth, params.id);
      const pins = [...new Set(body.pins)];
      const found = await terminalUsersToImport(trx, params.id, device.school_id, pins);
      const problems: Array<{ field: string; message: string }> = [];
      const skipped: string[] = [];
      const toCreate: Array<{ school_id: number; badge: string; name: string }> = [];
      for (const p of found) {
        const field = `body.pins[${body.pins.indexOf(p.pin)}]`;
        const name = p.terminal_name?.trim().slice(0, 200) ?? '';
        if (p.user_id !== null && !p.deleted) skipped.push(p.pin);
        else if (p.user_id !== null) problems.push({ field, message: `PIN ${p.pin} is the badge of a deactivated user of the school` });
        else if (!p.on_terminal) problems.push({ field, message: `PIN ${p.pin} is not on the terminal` });
        else if (name === '') problems.push({ field, message: `PIN ${p.pin} has no name on the terminal` });
        else toCreate.push({ school_id: device.school_id, badge: p.pin, name });
      }
      if (problems.length > 0) throw validationFailed(problems);
      const created = await insertUsersIfBadgeFree(trx, toCreate);
      // A badge taken by a concurrent request since the read: skipped too.
      const createdPins = new Set(created.map((u) => u.badge));
      skipped.push(...toCreate.filter((u) => !createdPins.has(u.badge)).map((u) => u.badge));
      // The roster gained these badges: the punches held for them (docs/protocol/push.md §4) are imported now, once.
      for (const u of created) await importHeldForUser(trx, { id: Number(u.id), school_id: Number(u.school_id), badge: u.badge });
      return reply.created({ created, skipped });
    },
  });
}
