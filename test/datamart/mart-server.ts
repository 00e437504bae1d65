// A real local HTTP server playing the regional data mart's uploader (docs/DATAMART.md): it
// keeps every file it took, and a test scripts its next answers — 500s, answers too slow for
// the client's timeout, a verdict of rejected with errors.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCsvText } from './csv.js';

export interface ReceivedUpload {
  id: string;
  datamart: string;
  /** The files' format version the upload declared. */
  version: string;
  entity: string;
  operation: string;
  fileName: string;
  content: string;
  header: string[];
  rows: string[][];
}

type Scripted = { kind: 'status'; status: number } | { kind: 'delay'; ms: number };

export class FakeMart {
  readonly uploads: ReceivedUpload[] = [];
  /** Every POST /uploads, answered or not. */
  uploadRequests = 0;
  statusRequests = 0;
  private script: Scripted[] = [];
  private verdicts = new Map<string, { status: 'processing' | 'accepted' | 'rejected'; errors: unknown[] }>();
  /** What the mart says of a new upload when asked: accepted unless told otherwise. */
  verdictFor: (u: ReceivedUpload) => { status: 'processing' | 'accepted' | 'rejected'; errors: unknown[] } = () => ({ status: 'accepted', errors: [] });
  private server: http.Server;
  private nextId = 1;
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next POST /uploads requests get these answers, in order, before normal service resumes. */
  scriptUploads(...answers: Scripted[]): void {
    this.script.push(...answers);
  }

  fail(status: number): Scripted {
    return { kind: 'status', status };
  }

  slow(ms: number): Scripted {
    return { kind: 'delay', ms };
  }

  received(entity: string, operation = 'upsert'): ReceivedUpload[] {
    return this.uploads.filter((u) => u.entity === entity && u.operation === operation);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };

    if (req.method === 'POST' && req.url === '/uploads') {
      this.uploadRequests++;
      const scripted = this.script.shift();
      if (scripted?.kind === 'status') return json(scripted.status, { error: 'scripted failure' });
      if (scripted?.kind === 'delay') await new Promise((r) => setTimeout(r, scripted.ms));
      if (res.destroyed) return;
      const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
      const file = form.get('file');
      if (!(file instanceof Blob)) return json(400, { error: 'no file' });
      const content = await file.text();
      const [header, ...rows] = parseCsvText(content);
      const upload: ReceivedUpload = {
        id: `up-${this.nextId++}`, datamart: String(form.get('datamart')), version: String(form.get('version')), entity: String(form.get('entity')), operation: String(form.get('operation')),
        fileName: (file as File).name, content, header, rows,
      };
      this.uploads.push(upload);
      this.verdicts.set(upload.id, this.verdictFor(upload));
      return json(202, { upload_id: upload.id });
    }

    const match = req.method === 'GET' ? /^\/uploads\/([^/]+)$/.exec(req.url ?? '') : null;
    if (match) {
      this.statusRequests++;
      const verdict = this.verdicts.get(decodeURIComponent(match[1]));
      if (!verdict) return json(404, { error: 'no such upload' });
      return json(200, verdict);
    }
    json(404, { error: 'not found' });
  }
}
