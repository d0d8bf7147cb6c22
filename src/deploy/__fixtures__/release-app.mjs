// A release for the deployment tests: an HTTP server on $PORT that answers with the version
// in ./release.json (its working directory is the release). `"healthy": false` makes /health
// answer 503, as a release that never becomes healthy; `"crash": true` exits at start.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const release = JSON.parse(readFileSync('release.json', 'utf8'));
if (release.crash === true) process.exit(3);
const port = Number(process.env.PORT);

const server = createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(release.healthy === false ? 503 : 200).end();
    return;
  }
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ version: release.version, pid: process.pid }));
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

server.listen(port, '127.0.0.1');
