import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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

/** Runs the ValidateService hook as Phoenix would, with the test listener's URL. */
function smokeTest(env) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['hooks/smoke-test.js'],
      { env: { ...process.env, ...env } },
      (error, stdout) => resolve({ code: error === null ? 0 : error.code, stdout }),
    );
  });
}

test('the smoke test passes against a good release', async () => {
  const { code, stdout } = await smokeTest({
    PHOENIX_TEST_URL: base,
    PHOENIX_RELEASE: process.env.PHOENIX_RELEASE ?? 'dev',
  });
  assert.equal(code, 0, stdout);
  assert.match(stdout, /3 of 3 passed/);
});

test('the smoke test fails when the test listener reaches another release', async () => {
  const { code, stdout } = await smokeTest({
    PHOENIX_TEST_URL: base,
    PHOENIX_RELEASE: 'rel_not_this_one',
  });
  assert.equal(code, 1);
  assert.match(stdout, /FAIL GET \/health answers ok from the new release/);
});
