import { createServer } from 'node:http';
import { cartTotal, PRODUCTS } from './catalog.js';

const VERSION = process.env.PHOENIX_RELEASE ?? 'dev';

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/health')
    return send(res, 200, { status: 'ok', version: VERSION });
  if (req.method === 'GET' && url.pathname === '/products') return send(res, 200, PRODUCTS);
  if (req.method === 'POST' && url.pathname === '/cart/total') {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 64 * 1024) req.destroy();
    });
    req.on('end', () => {
      try {
        send(res, 200, { totalCents: cartTotal(JSON.parse(body).items ?? []) });
      } catch (error) {
        send(res, 400, { error: error.message });
      }
    });
    return undefined;
  }
  return send(res, 404, { error: 'not found' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000);
  const server = createServer(handle).listen(port, '127.0.0.1', () => {
    console.log(`shop ${VERSION} listening on 127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
