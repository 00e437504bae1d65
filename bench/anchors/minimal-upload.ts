// The accept scenario's anchor: the least a durable upload endpoint can do, shaped like what the
// product does since the one import inbox (the pending session row is the import's queue
// entry): express + multer take the file in memory, its SHA-256, one autocommitted INSERT of the
// bytes into a table shaped like sync_sessions (with its pending-rows index), 202. No auth, no
// archive check, no status flag. Run as its own process: DATABASE_URL, PORT.
import { createHash, randomUUID } from 'node:crypto';
import express from 'express';
import multer from 'multer';
import pg from 'pg';

const url = process.env.DATABASE_URL!;
const pool = new pg.Pool({ connectionString: url, max: 10 });
pool.on('error', () => undefined);
await pool.query(`CREATE TABLE IF NOT EXISTS anchor_uploads (
  id uuid PRIMARY KEY, device text NOT NULL, archive bytea NOT NULL, archive_sha256 text NOT NULL, archive_bytes integer NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(), processed_at timestamptz)`);
await pool.query('CREATE INDEX IF NOT EXISTS anchor_uploads_pending ON anchor_uploads (received_at) WHERE processed_at IS NULL');

const app = express();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 50 * 1024 * 1024, files: 1 } }).single('archive');
app.post('/upload', upload, async (req, res) => {
  try {
    const archive = req.file!.buffer;
    const id = randomUUID();
    await pool.query('INSERT INTO anchor_uploads (id, device, archive, archive_sha256, archive_bytes) VALUES ($1, $2, $3, $4, $5)',
      [id, req.get('x-device') ?? '', archive, createHash('sha256').update(archive).digest('hex'), archive.length]);
    res.status(202).json({ session_id: id });
  } catch (err) {
    res.status(500).json({ error: String(err) });
  }
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('anchor listening\n'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
});
