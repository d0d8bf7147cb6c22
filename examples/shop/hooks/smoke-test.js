#!/usr/bin/env node
// ValidateService: the new release, reached through the test listener, answers as it should.
// A failure stops the deployment before production moves; the old release keeps serving.
const base = process.env.PHOENIX_TEST_URL;
const release = process.env.PHOENIX_RELEASE;

if (base === undefined) {
  console.log('smoke test skipped: no test listener routes to this release');
  process.exit(0);
}

async function call(path, init = {}) {
  const res = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

const checks = [
  [
    'GET /health answers ok from the new release',
    async () => {
      const { status, body } = await call('/health');
      return status === 200 &&
        body.status === 'ok' &&
        (release === undefined || body.version === release)
        ? undefined
        : `got ${status} ${JSON.stringify(body)}`;
    },
  ],
  [
    'GET /products lists the catalog',
    async () => {
      const { status, body } = await call('/products');
      return status === 200 && Array.isArray(body) && body.length > 0
        ? undefined
        : `got ${status} ${JSON.stringify(body)}`;
    },
  ],
  [
    'POST /cart/total adds up a cart',
    async () => {
      const { status, body } = await call('/cart/total', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ id: 'p-100', quantity: 2 }] }),
      });
      return status === 200 && body.totalCents === 2400
        ? undefined
        : `got ${status} ${JSON.stringify(body)}`;
    },
  ],
];

let failed = 0;
for (const [name, check] of checks) {
  const problem = await check().catch((error) => `${error.name}: ${error.message}`);
  console.log(
    `${problem === undefined ? 'ok  ' : 'FAIL'} ${name}${problem === undefined ? '' : `: ${problem}`}`,
  );
  if (problem !== undefined) failed++;
}
console.log(`smoke test against ${base}: ${checks.length - failed} of ${checks.length} passed`);
process.exit(failed === 0 ? 0 : 1);
