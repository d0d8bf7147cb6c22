import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMarkedProcesses } from '../../src/build/process-reaper.js';
import { git, gitRepo, tempDir } from '../support/git-fixture.js';
import { CLI, readEvents, reapBuildsUnder, ServerProcess } from '../support/server-process.js';

const TOKEN = 'phx_test-admin-token-0123456789abcdef';

interface RunView {
  id: string;
  status: string;
  stages: { name: string; status: string; attempt: number; externalId?: string; reason?: string }[];
}

describe('a control plane killed with SIGKILL mid-build', () => {
  let dir: ReturnType<typeof tempDir>;
  let servers: ServerProcess[];
  let env: Record<string, string>;

  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });

  beforeEach(() => {
    dir = tempDir();
    servers = [];
    env = { PHOENIX_HOME: join(dir.path, 'home'), PHOENIX_ADMIN_TOKEN: TOKEN };
  });

  afterEach(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await reapBuildsUnder(dir.path);
    dir.remove();
  });

  function start(): ServerProcess {
    const server = new ServerProcess(env);
    servers.push(server);
    return server;
  }

  async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    if (!response.ok)
      throw new Error(
        `${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`,
      );
    return (await response.json()) as T;
  }

  it('loses no run: the restarted server fails the interrupted build, reaps its processes and runs it again', async () => {
    const gate = join(dir.path, 'gate');
    const first = start();
    const base = await first.url;
    const repo = await api<{ pushUrl: string }>(base, '/api/repos', {
      method: 'POST',
      body: JSON.stringify({ name: 'shop' }),
    });
    const work = join(dir.path, 'work');
    gitRepo(work, {
      'phoenix.yml': 'service: shop\nbuild:\n  retries: 1\n',
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - 'echo waiting; while [ ! -f ${gate} ]; do sleep 0.05; done; echo built'\n`,
    });
    const pushUrl = repo.pushUrl.replace('http://', `http://phoenix:${TOKEN}@`);
    git(work, 'push', '-q', pushUrl, 'main');
    const [run] = (await api<{ runs: RunView[] }>(base, '/api/runs?service=shop')).runs;
    if (run === undefined) throw new Error('the push started no run');
    await readEvents(
      `${base}/api/runs/${run.id}/events`,
      TOKEN,
      (event) => event.event === 'log' && event.data.includes('waiting'),
    );
    const { run: interrupted } = await api<{ run: RunView }>(base, `/api/runs/${run.id}`);
    const buildId = interrupted.stages[1]?.externalId ?? '';

    await first.stop('SIGKILL');
    expect(await findMarkedProcesses(buildId)).not.toEqual([]);
    writeFileSync(gate, '');
    const second = start();
    const restarted = await second.url;
    const events = await readEvents(
      `${restarted}/api/runs/${run.id}/events`,
      TOKEN,
      (event) => event.event === 'end',
    );
    const { run: done } = await api<{ run: RunView }>(restarted, `/api/runs/${run.id}`);

    expect(interrupted.status).toBe('running');
    expect(done.status).toBe('succeeded');
    expect(done.stages.map((stage) => `${stage.name}:${stage.status}:${stage.attempt}`)).toEqual([
      'source:succeeded:1',
      'build:succeeded:2',
    ]);
    expect(await findMarkedProcesses(buildId)).toEqual([]);
    expect(
      events.some((event) =>
        event.data.includes('the Phoenix server stopped while this stage ran'),
      ),
    ).toBe(true);
    expect(events.filter((event) => event.event === 'run.created')).toHaveLength(1);
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
