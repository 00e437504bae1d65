// A data query's answer (PUSH 3.x `querydata`), a ping, or anything else posted to a path that
// takes it: kept like an unknown table's upload from a registered terminal, so nothing answered
// OK is dropped unseen.
import { storeUpload } from '../../db/repositories/push/uploads.js';
import { sha256 } from '../../shared/archive/hash.js';
import { PushAnswer, serialOf } from './answer.js';
import type { PushHandler, PushRoutes } from './route.js';

const harmless: PushHandler = async (req, { ctx, access }) => {
  const sn = serialOf(req);
  if (req.body.length === 0) return new PushAnswer(200, 'OK');
  const found = await access.find(sn);
  if (found?.device_id && !found.disabled) {
    // Kept only from where the terminal is; from elsewhere, refused (and shown as a claim).
    const terminal = await access.admit(found, req);
    const name = req.query.get('tablename')?.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 30);
    await storeUpload(ctx.db, { deviceId: terminal.device_id, table: `querydata${name ? `:${name}` : ''}`, body: req.body, sha256: sha256(req.body) });
  }
  return new PushAnswer(200, 'OK');
};

export function queryDataRoutes(push: PushRoutes): void {
  push.add({ method: '*', path: 'querydata', summary: 'PUSH 3.x: a data query\'s answer, kept', handler: harmless });
  push.add({ method: '*', path: 'ping', summary: 'A keep-alive (a body, if any, kept)', handler: harmless });
  push.add({ method: '*', path: 'registry', summary: 'Anything else at the registry (a body, if any, kept)', handler: harmless });
}
