// The least a Node proxy can do, as a reference for the router bench: round-robin over the
// upstreams with a keep-alive agent, headers copied as they are, the response piped back.
// No retries, no forwarded headers, no counters, no health. What separates it from nginx is
// Node's own HTTP stack; what separates the router from it is Phoenix's work per request.
//
//   node --import tsx bench/lib/bare-node-proxy.ts LISTEN_PORT UPSTREAM_PORT...
import { Agent, createServer, request } from 'node:http';

const [listenText = '0', ...upstreamTexts] = process.argv.slice(2);
const upstreams = upstreamTexts.map(Number);
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
let next = 0;

const server = createServer((req, res) => {
  const port = upstreams[next++ % upstreams.length];
  const upstream = request(
    { agent, host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
    (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;

server.listen({ port: Number(listenText), host: '127.0.0.1' }, () => {
  console.log(`bare node proxy listening on ${listenText}`);
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
