import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { handle } from '../src/server.js';

let server;
let base;

before(async () => {
  server = createServer(handle);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

test('answers /health', async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, 'ok');
});

test('lists products', async () => {
  const res = await fetch(`${base}/products`);
  assert.equal((await res.json()).length, 3);
});

test('totals a cart over HTTP and refuses a bad one', async () => {
  const ok = await fetch(`${base}/cart/total`, {
    method: 'POST',
    body: JSON.stringify({ items: [{ id: 'p-200', quantity: 2 }] }),
  });
  assert.deepEqual(await ok.json(), { totalCents: 5000 });
  const bad = await fetch(`${base}/cart/total`, {
    method: 'POST',
    body: '{"items":[{"id":"x","quantity":1}]}',
  });
  assert.equal(bad.status, 400);
});
