import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/router/testing/upstream.js';
import { LocalRuntime } from '../../src/runtime/local/local-runtime.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../support/git-fixture.js';
import { CLI } from '../support/server-process.js';

/** Ports base, +1, +10, +11, +20, +21 all free (the demo's listeners). */
async function freeListenerBlock(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = [0, 1, 10, 11, 20, 21].map((offset) => base + offset);
    const free = await Promise.all(ports.map(isFree));
    if (free.every(Boolean)) return base;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The demo, driven as the README runs it but without waiting: the whole story, then nothing left. */
describe('phoenix up --demo --no-wait', () => {
  let dir: ReturnType<typeof tempDir>;

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  beforeEach(() => {
    dir = tempDir('phoenix-demo-');
  });

  afterEach(() => {
    dir.remove();
  });

  it('runs the shop through dev and a staging canary to the gate, rolls a bad release back, and stops everything', async () => {
    const demoPort = await freeListenerBlock();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'up',
        '--demo',
        '--no-wait',
        '--port',
        String(await freePort()),
        '--router-port',
        String(await freePort()),
        '--demo-port',
        String(demoPort),
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          PHOENIX_HOME: dir.path,
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const [code] = (await once(child, 'exit')) as [number | null];

    expect(code, output).toBe(0);
    const demo = output
      .split('\n')
      .filter((line) => line.startsWith('demo   │ '))
      .map((line) => line.slice('demo   │ '.length));
    expect(demo).toEqual(
      expect.arrayContaining([
        'Run shop #1: source → build → release → deploy:dev → deploy:staging → approve:prod → deploy:prod',
        '  deploy:dev succeeded',
        '  deploy:staging succeeded',
        '  approve:prod running',
        expect.stringMatching(
          new RegExp(
            `^dev serves the shop at http://127.0.0.1:${demoPort}/products \\(200, release rel_`,
          ),
        ),
        expect.stringMatching(/^staging serves it at .* \(200, release rel_/),
        expect.stringMatching(
          /^prod waits for approval \(then http:\/\/127\.0\.0\.1:\d+\/products/,
        ),
        '  npm run phoenix -- approve shop --env prod --comment "looks good"',
        // The shop's appspec.yml: its smoke test ran on each environment's test listener.
        '      dev: shop-dev-test → shop-dev-1 100%',
        '      dev: hook ValidateService passed',
        '      staging: hook ValidateService passed',
        // The live view: the canary's share, then production back on the stable release.
        expect.stringMatching(
          /^ {6}staging: shop-staging → shop-staging-2 20%, shop-staging-1 80%$/,
        ),
        expect.stringMatching(/^ {6}staging: shop-staging → shop-staging-1 100%$/),
        expect.stringMatching(
          /^ {2}deploy:staging failed: rolled back: alarm release-errors: error-rate/,
        ),
        expect.stringMatching(
          /^Noticed \d+ ms after the first error, production back on the stable release \d+ ms after it; \d+ of \d+ requests failed/,
        ),
      ]),
    );
    expect(output).toContain('Demo over: the router, the server and the instances are stopped');
    // The rollback is told in words; the server's warning about it is not shown as JSON.
    expect(output).not.toContain('"level":');
    const runtime = new LocalRuntime({
      stateDirectory: join(dir.path, 'runtime'),
      clock: systemClock(),
      logger: silentLogger(),
    });
    await runtime.adopt();
    expect(runtime.list().filter((instance) => instance.status !== 'stopped')).toEqual([]);
    await runtime.close();
  });
});
