// The push scenario's anchor: a bare node:http server answering `OK` to every call (the least a
// PUSH endpoint can do: no routing, no lookup, no database). Run as its own process: PORT.
import http from 'node:http';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.method === 'POST' ? 'OK: 1' : 'OK');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('anchor listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
