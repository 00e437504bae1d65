// The registry (POST /iclock/registry) carries the terminal's options (model, firmware, counts):
// kept for staff. A Security PUSH 3.x terminal registers here and needs its RegistryCode to go
// on; while it is pending it is refused (it keeps its events and registers again after ErrorDelay).
import { issueRegistryCode } from '../../db/repositories/push/terminal-address.js';
import { noteContact, recordOptions } from '../../db/repositories/push/terminals.js';
import { parseOptions } from '../../shared/protocol/push.js';
import { bodyText, DISABLED, PushAnswer, serialOf } from './answer.js';
import type { PushHandler, PushRoutes } from './route.js';
import { approved, freshRegistryCode, isPush3 } from './terminal-access.js';

const registry: PushHandler = async (req, { ctx, access }) => {
  const { db } = ctx;
  const sn = serialOf(req);
  const options = parseOptions(bodyText(req));
  const version = options.PushVersion ?? options.pushver ?? null;
  const terminal = await access.fresh(req, sn, version);
  if (terminal?.disabled) throw DISABLED;
  const schoolId = terminal?.device_id ? (await access.admit(terminal, req)).school_id : null;
  if (schoolId !== null) {
    await noteContact(db, { schoolId, serialNumber: sn, address: req.address, pushVersion: access.versionOf(req, version) });
  }
  await recordOptions(db, { schoolId, serialNumber: sn }, options);
  if (!isPush3(req.query, options)) return new PushAnswer(200, 'OK: 1');
  const known = approved(terminal, req.address);
  // The same code at every registration of this terminal (it is the base of its token).
  const codes = await issueRegistryCode(db, known.school_id, sn, freshRegistryCode());
  ctx.push.forget(sn);
  return new PushAnswer(200, `RegistryCode=${codes!.code}`);
};

export function registryRoutes(push: PushRoutes): void {
  push.add({ method: 'POST', path: 'registry', summary: 'Registration: the terminal\'s options; PUSH 3.x gets its RegistryCode', handler: registry });
}
