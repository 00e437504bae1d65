// The accept scenario's floor: what the protocol requires of an upload (docs/protocol/v4.md
// §3.3), done with the product's own functions and nothing else. express + multer take the
// file as in the bare anchor; then the device token is verified (api/auth/tokens.ts, jose), and
// `acceptUpload` checks the archive and stores it with the status flip in one statement, through
// the product's data layer (kysely, prepared statements). None of the product's http layer: no
// request id, request log, metrics, route table, upload budget or problem+json. So the bare
// anchor against this one is the price of the protocol's own work, and this one against the
// api is the price of the product's http layer. Run as its own process: the api's environment.
import express from 'express';
import multer from 'multer';
import { deriveKeys, verifyDeviceToken } from '../../api/auth/tokens.js';
import { BacklogGauge } from '../../api/context/backlog.js';
import { acceptUpload } from '../../api/sync/accept-upload.js';
import { connectDatabase } from '../../db/database.js';
import { prepareRepeatedStatements } from '../../db/pg-statements.js';
import { envToConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { isChannelName } from '../../shared/protocol/channels.js';

const config = envToConfig(process.env);
const logger = createLogger('floor-anchor', 'warn');
const { db } = connectDatabase(config.databaseUrl!, { max: config.dbPoolMax, logger, applicationName: 'floor-anchor' });
prepareRepeatedStatements();
const keys = deriveKeys(config.jwtSecret!);
const backlog = new BacklogGauge(db, config.importMaxPending);

const app = express();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: config.maxArchiveBytes, files: 1 } }).single('archive');
app.post('/v4/:channel/datas', upload, async (req, res) => {
  try {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const claims = token ? await verifyDeviceToken(keys, token) : null;
    const channel = String(req.params.channel);
    if (!claims || !isChannelName(channel) || !req.file) {
      res.status(400).end();
      return;
    }
    const accepted = await acceptUpload({ db, config, backlog }, claims.schoolId, claims.deviceId, channel, req.file.buffer);
    res.status(202).json({ session_id: accepted.session_id, status: accepted.status });
  } catch (err) {
    res.status(500).json({ error: String(err) });
  }
});
const server = app.listen(config.port, '127.0.0.1', () => process.stdout.write('anchor listening\n'));
process.on('SIGTERM', () => {
  server.close();
  void db.destroy().finally(() => process.exit(0));
});
