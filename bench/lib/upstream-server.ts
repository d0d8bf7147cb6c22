// A release instance for the router bench: answers every request (the health check too)
// with 200 and a small body naming itself. Run as its own process:
//
//   node --import tsx bench/lib/upstream-server.ts NAME PORT
import { createServer } from 'node:http';

/** Small enough that the proxies' per-request work, not copying bytes, is what is measured. */
const BODY_PADDING = 'x'.repeat(64);

const [name = 'upstream', portText = '0'] = process.argv.slice(2);
const body = `${name} ${BODY_PADDING}\n`;
const headers = {
  'content-type': 'text/plain',
  'content-length': Buffer.byteLength(body),
  'x-upstream': name,
};

const server = createServer((req, res) => {
  // Requests have no body; resume() would only matter for one that had.
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 65_000;

server.listen({ port: Number(portText), host: '127.0.0.1' }, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`upstream ${name} listening on ${port}`);
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
