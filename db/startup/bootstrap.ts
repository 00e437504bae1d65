// Start-up data: a backoffice account from ADMIN_EMAIL/ADMIN_PASSWORD when none exists,
// and with DEMO_DATA a demo school when the database is empty.
import type { Config } from '../../shared/config.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { hashPassword } from '../../shared/auth/password.js';
import type { Db } from '../database.js';
import { addDemoHistory } from './demo-history.js';
import { countBackoffice, insertStaff } from '../repositories/staff.js';

export interface DemoData {
  school: { id: number; name: string };
  users: number;
  schoolAdmin: { email: string; password: string };
  devices: Array<{ id: string; name: string; secret: string }>;
}

export interface BootstrapResult {
  adminCreated: string | null;
  demo: DemoData | null;
}

const DEMO_NAMES = [
  'Alice Martin', 'Bao Nguyen', 'Chloé Bernard', 'Dmitri Ivanov', 'Emma Dubois', 'Farid Haddad', 'Giulia Rossi',
  'Hugo Laurent', 'Ines Moreau', 'Jonas Weber', 'Kim Tran', 'Léa Petit', 'Malik Diallo', 'Nina Kowalski',
  'Oscar Lefebvre', 'Priya Sharma', 'Quentin Roux', 'Rosa Garcia', 'Sami Benali', 'Tomás Silva', 'Ulla Svensson',
  'Victor Fontaine', 'Wen Li', 'Xavier Mercier', 'Yasmine Amrani', 'Zoé Girard', 'Anh Pham', 'Boris Petrov',
  'Camille Blanc', 'Diego Fernández',
];

export async function ensureAdmin(db: Db, config: Config): Promise<string | null> {
  if (!config.adminEmail || !config.adminPassword) return null;
  if ((await countBackoffice(db)) > 0) return null;
  await insertStaff(db, { email: config.adminEmail, password_hash: await hashPassword(config.adminPassword), role: 'backoffice', school_id: null, name: 'Administrator' });
  return config.adminEmail;
}

export async function createDemoData(db: Db, opts: { demoAdminPassword: string }): Promise<DemoData | null> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('schools').select('id').limit(1).executeTakeFirst();
    if (existing) return null;
    const school = await trx.insertInto('schools').values({ name: 'Demo School', timezone: 'Europe/Paris', late_after: '08:30' })
      .returning(['id', 'name']).executeTakeFirstOrThrow();
    const enrolledOn = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
    await trx.insertInto('users').values(DEMO_NAMES.map((name, i) => ({
      school_id: school.id, name, badge: `B${String(i + 1).padStart(4, '0')}`, enrolled_on: enrolledOn,
    }))).execute();
    const adminEmail = 'admin@demo-school.test';
    await trx.insertInto('staff').values({
      email: adminEmail, password_hash: await hashPassword(opts.demoAdminPassword), role: 'school_admin', school_id: school.id, name: 'Demo School admin',
    }).execute();
    const devices = [];
    for (const [name, kind] of [['Main entrance terminal', 'terminal'], ['Teacher phone', 'mobile']] as const) {
      const secret = generateDeviceSecret();
      const device = await trx.insertInto('devices').values({ school_id: school.id, name, kind, secret_hash: hashDeviceSecret(secret) })
        .returning(['id', 'name']).executeTakeFirstOrThrow();
      devices.push({ ...device, secret });
    }
    await addDemoHistory(trx, { id: school.id, timezone: 'Europe/Paris' }, devices[0].id, devices[1].id);
    return { school, users: DEMO_NAMES.length, schoolAdmin: { email: adminEmail, password: opts.demoAdminPassword }, devices };
  });
}
