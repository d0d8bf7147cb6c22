import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/router/testing/upstream.js';
import { tempDir } from '../support/git-fixture.js';
import { CLI } from '../support/server-process.js';

/** `phoenix up`: the router and the server as processes of their own, stopped together. */
describe('phoenix up', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: ChildProcess | undefined;
  let output: string;

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  beforeEach(() => {
    dir = tempDir('phoenix-up-');
    output = '';
  });

  afterEach(async () => {
    if (up !== undefined && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGINT');
      await once(up, 'exit');
    }
    dir.remove();
  });

  function start(args: readonly string[]): { line: (pattern: RegExp) => Promise<string> } {
    const child = spawn(process.execPath, [CLI, 'up', ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PHOENIX_HOME: dir.path, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up = child;
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`;
        for (const waiter of [...waiters]) {
          if (!waiter.pattern.test(line)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      });
    }
    return {
      line: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })),
    };
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  it('starts the router and the server, and stops both on Ctrl-C', async () => {
    const [port, routerPort] = [await freePort(), await freePort()];
    const { line } = start(['--port', String(port), '--router-port', String(routerPort)]);

    // Both watched from the start: the two lines may come in either order.
    const [ready, routerReady] = await Promise.all([
      line(/^Phoenix is up/),
      line(/Router http:\/\/127\.0\.0\.1:\d+: ready$/),
    ]);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    const pids = (/pids (\d+), (\d+)/.exec(ready) ?? []).slice(1).map(Number);
    up?.kill('SIGINT');
    const [code] = (await once(up as ChildProcess, 'exit')) as [number | null];

    expect(ready).toContain(`API and git at http://127.0.0.1:${port}`);
    expect(health.status).toBe(200);
    expect(routerReady).toContain(`${routerPort}`);
    expect(output).toMatch(/^router │ Phoenix router http:\/\/127\.0\.0\.1:\d+/m);
    expect(code).toBe(0);
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('says which port is taken, and leaves nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const { line } = start(['--port', String(port), '--router-port', String(await freePort())]);

      const said = await line(/^phoenix up: /);
      const [code] = (await once(up as ChildProcess, 'exit')) as [number | null];

      expect(said).toBe(
        `phoenix up: the server did not start (port ${port}) (exit code 2); its output above says why`,
      );
      expect(output).toContain(
        `server │ phoenix: cannot listen on 127.0.0.1 port ${port}: it is in use by another process; choose another with --port`,
      );
      expect(output).toContain('router │ Stopping');
      expect(code).toBe(1);
    } finally {
      taken.close();
    }
  });
});
