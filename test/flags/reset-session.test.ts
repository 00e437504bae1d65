// RESET_SESSION acts on the server at once (docs/protocol/v4.md §6). No worker runs here, so an upload
// stays in status 1 — the "stuck in processing" case the flag exists for.
import { beforeAll, expect, test } from '@jest/globals';
import { http } from '../support/http.js';
import { aFlagWorld, aSyncingDevice, batch, flagOf, setFlag, type FlagWorld } from './support.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: false });
let w: FlagWorld;

beforeAll(async () => {
  w = await aFlagWorld(suite.url, suite.db);
});

test('a session stuck in status 1 is closed at once and the device may upload again', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const up = await dev.upload(batch());
  expect(up.status).toBe(202);
  expect((await dev.upload(batch({ rosterVersion: 1 }))).body.code).toBe('sync_in_progress');

  const reset = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESET_SESSION' });
  expect(reset.status).toBe(201);
  expect(reset.body.state).toBe('applied');
  expect((await dev.status()).body).toMatchObject({ status: 0 });

  const history = await http(suite.url, 'GET', `/api/devices/${dev.identity.id}/sessions`, { token: w.backoffice.token });
  expect(history.body.items[0]).toMatchObject({ id: up.body.session_id, state: 'closed', outcome: 'reset', acknowledged_at: null });
  const flag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, reset.body.id);
  expect(flag.events.at(-1)).toMatchObject({ action: 'applied', staff_id: w.backoffice.id, details: { closed_sessions: [{ channel: 'synchro', status: 1, session_id: up.body.session_id }] } });

  const next = await dev.upload(batch({ rosterVersion: 1 }));
  expect(next.status).toBe(202);
  expect(next.body.session_id).not.toBe(up.body.session_id);
});

test('on an idle device it is still recorded, applied, with nothing closed', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const reset = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESET_SESSION' });
  expect(reset.body.state).toBe('applied');
  const flag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, reset.body.id);
  expect(flag.events.map((e: { action: string }) => e.action)).toEqual(['set', 'applied']);
  expect(flag.events[1].details).toEqual({ closed_sessions: [] });
});
