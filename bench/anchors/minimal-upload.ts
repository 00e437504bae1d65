// The accept scenario's anchor: the least an upload endpoint can do — express + multer take
// the file in memory, one transaction stores the bytes and sends a pg-boss job, 202. No auth,
// no archive check, no status flag. Run as its own process: DATABASE_URL, PORT.
import express from 'express';
import multer from 'multer';
import pg from 'pg';
import { PgBoss, type SendOptions } from 'pg-boss';

const QUEUE = 'anchor-upload';
const url = process.env.DATABASE_URL!;
const pool = new pg.Pool({ connectionString: url, max: 10 });
pool.on('error', () => undefined);
const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false, migrate: false });
boss.on('error', () => undefined);
await boss.start();
if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE);
await pool.query('CREATE TABLE IF NOT EXISTS anchor_uploads (id bigserial PRIMARY KEY, archive bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now())');

const app = express();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 50 * 1024 * 1024, files: 1 } }).single('archive');
app.post('/upload', upload, async (req, res) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const row = await client.query<{ id: string }>('INSERT INTO anchor_uploads (archive) VALUES ($1) RETURNING id', [req.file!.buffer]);
    await boss.send(QUEUE, { id: row.rows[0].id }, { db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) } } as SendOptions);
    await client.query('COMMIT');
    res.status(202).json({ id: row.rows[0].id });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    res.status(500).json({ error: String(err) });
  } finally {
    client.release();
  }
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('anchor listening\n'));
process.on('SIGTERM', () => {
  server.close();
  void boss.stop({ graceful: false }).finally(() => pool.end().finally(() => process.exit(0)));
});
