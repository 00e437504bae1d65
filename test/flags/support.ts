// Shared by the flag and session suites: a school with users, a backoffice caller, devices that
// sync the way firmware does (manifest first, then upload, package, acknowledgement), and the
// flag calls of the REST API.
import { expect } from '@jest/globals';
import type { Db } from '../../db/database.js';
import { attendancesCsv, batchZip, deviceXml, readPackage, TestDevice, type CsvAttendance, type Package } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs, someUsers } from '../support/fixtures.js';
import { http, type HttpResult } from '../support/http.js';

export interface FlagWorld {
  school: Awaited<ReturnType<typeof aSchool>>;
  users: Awaited<ReturnType<typeof someUsers>>;
  backoffice: { id: number; token: string };
}

export async function aFlagWorld(url: string, db: Db, school: { timezone?: string } = {}): Promise<FlagWorld> {
  const s = await aSchool(db, school);
  const users = await someUsers(db, s.id, 3);
  const bo = await aStaff(db, 'backoffice');
  return { school: s, users, backoffice: { id: bo.id, token: await loginAs(url, bo) } };
}

export async function aSyncingDevice(url: string, db: Db, schoolId: number): Promise<TestDevice> {
  return new TestDevice(url, await aDevice(db, schoolId)).signIn();
}

export interface Cycle {
  manifest: HttpResult;
  sessionId: string;
  pkg: Package;
}

/** A batch as firmware builds it: device.xml plus whatever files are given. */
export function batch(files: { rows?: CsvAttendance[]; settings?: string; rosterVersion?: number; clock?: Date } = {}): Buffer {
  const entries: Record<string, string> = { 'device.xml': deviceXml({ rosterVersion: files.rosterVersion ?? 0, clock: files.clock }) };
  if (files.rows) entries['attendances.csv'] = attendancesCsv(files.rows);
  if (files.settings !== undefined) entries['settings.xml'] = files.settings;
  return batchZip(entries);
}

/** Manifest, upload, wait for status 2, download the package; no acknowledgement yet. */
export async function syncUntilReady(dev: TestDevice, archive: Buffer): Promise<Cycle> {
  const manifest = await dev.manifest();
  expect(manifest.status).toBe(200);
  const up = await dev.upload(archive);
  if (up.status !== 202) throw new Error(`upload refused: ${up.status} ${JSON.stringify(up.body)}`);
  await dev.waitForStatus(2);
  const res = await dev.instructions();
  expect(res.status).toBe(200);
  return { manifest, sessionId: up.body.session_id, pkg: readPackage(res.body as Buffer) };
}

/** One whole sync: manifest, upload, package, acknowledgement. */
export async function fullSync(dev: TestDevice, archive: Buffer): Promise<Cycle> {
  const cycle = await syncUntilReady(dev, archive);
  const ack = await dev.ack(cycle.sessionId);
  expect(ack.status).toBe(200);
  return cycle;
}

export function setFlag(url: string, token: string, deviceId: string, body: Record<string, unknown>): Promise<HttpResult> {
  return http(url, 'POST', `/api/devices/${deviceId}/flags`, { token, body });
}

export async function flagOf(url: string, token: string, deviceId: string, flagId: number): Promise<any> {
  const res = await http(url, 'GET', `/api/devices/${deviceId}/flags/${flagId}`, { token });
  expect(res.status).toBe(200);
  return res.body;
}

/** The `<flag>` elements of a package, by name. */
export function flagNames(pkg: Package): string[] {
  return pkg.all('flag').map((f) => f.name);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
