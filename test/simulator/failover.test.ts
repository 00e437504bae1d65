// A simulated device whose api host is gone carries on through another of the fleet's api
// hosts (simulator/failover.ts), and goes back to its own once it answers again; a host that
// is not part of a fleet fails as before. Two plain HTTP servers on loopback stand for the hosts.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DOWN_MS, failoverBetween } from '../../simulator/failover.js';
import { http as call, NetworkError } from '../../simulator/http.js';

const servers: http.Server[] = [];
async function host(name: string, port = 0): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ host: name }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const close = (server: http.Server) => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});

let a: { url: string; server: http.Server };
let b: { url: string; server: http.Server };
beforeAll(async () => {
  a = await host('a');
  b = await host('b');
  failoverBetween([a.url, b.url]);
});
afterAll(async () => {
  for (const s of servers) if (s.listening) await close(s);
});

test('a call to a host that is gone is answered by the other, then by its own host once it is back', async () => {
  expect((await call(a.url, 'GET', '/status')).body).toEqual({ host: 'a' });
  await close(a.server);
  // The connection is refused: the request never reached a server, so it goes to b at once.
  expect((await call(a.url, 'GET', '/status')).body).toEqual({ host: 'b' });
  // And the next calls go straight to b while a is held down.
  expect((await call(a.url, 'GET', '/status')).body).toEqual({ host: 'b' });
  expect((await call(b.url, 'GET', '/status')).body).toEqual({ host: 'b' });

  const port = Number(new URL(a.url).port);
  await host('a again', port);
  await new Promise((r) => setTimeout(r, DOWN_MS + 100));
  expect((await call(a.url, 'GET', '/status')).body).toEqual({ host: 'a again' });
}, 20_000);

test('a host outside any fleet fails as before: the caller sees the network error', async () => {
  const lone = await host('lone');
  await close(lone.server);
  await expect(call(lone.url, 'GET', '/status')).rejects.toBeInstanceOf(NetworkError);
});
