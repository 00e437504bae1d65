// Two schools and a caller of every kind, for the REST API suites.
import type { Db } from '../../db/database.js';
import { aDevice, aSchool, aStaff, deviceToken, loginAs } from '../support/fixtures.js';

export interface World {
  schoolA: Awaited<ReturnType<typeof aSchool>>;
  schoolB: Awaited<ReturnType<typeof aSchool>>;
  backoffice: { id: number; token: string };
  /** School admin of A. */
  adminA: { id: number; token: string };
  /** School admin of B. */
  adminB: { id: number; token: string };
  /** A device token of school A: it must reach no /api resource. */
  device: string;
}

export async function aWorld(url: string, db: Db): Promise<World> {
  const schoolA = await aSchool(db);
  const schoolB = await aSchool(db);
  const [bo, a, b] = [await aStaff(db, 'backoffice'), await aStaff(db, 'school_admin', schoolA.id), await aStaff(db, 'school_admin', schoolB.id)];
  const dev = await aDevice(db, schoolA.id);
  return {
    schoolA, schoolB,
    backoffice: { id: bo.id, token: await loginAs(url, bo) },
    adminA: { id: a.id, token: await loginAs(url, a) },
    adminB: { id: b.id, token: await loginAs(url, b) },
    device: await deviceToken(url, dev),
  };
}
