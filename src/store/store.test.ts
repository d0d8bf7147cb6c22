import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openStore, type Store } from './store.js';

const numberList = z.array(z.number());
const CHILD = fileURLToPath(new URL('./__fixtures__/store-child.ts', import.meta.url));

let scratch: string;
let path: string;
const opened: Store[] = [];

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-store-'));
  path = join(scratch, 'phoenix.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) if (store.db.open) store.close();
  await rm(scratch, { recursive: true, force: true });
});

function open(): Store {
  const store = openStore(path);
  opened.push(store);
  return store;
}

interface ChildResult {
  stdout: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Runs the store fixture in a process of its own. */
function child(...args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, ...args]);
}

function finished(proc: ChildProcessWithoutNullStreams): Promise<ChildResult> {
  let stdout = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ stdout, code, signal }));
  });
}

function ready(proc: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', () => resolve());
    proc.on('error', reject);
  });
}

function seedService(store: Store): void {
  store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/shop' } });
}

function createRun(store: Store, commit = 'abc') {
  return store.runs.create({
    service: 'shop',
    commit,
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice' },
    stages: [{ name: 'build', kind: 'build' }],
  });
}

describe('durability', () => {
  it('reads back everything written after closing and reopening the file', () => {
    const first = open();
    seedService(first);
    const run = createRun(first);
    first.runs.transition(run.id, 'running');
    first.runs.transitionStage(run.id, 0, 'running', { logPath: '/logs/1' });
    first.runs.transitionStage(run.id, 0, 'succeeded', { output: { artifacts: ['app.tgz'] } });
    const finished = first.runs.transition(run.id, 'succeeded');
    first.events.append(run.id, 'run.status', { status: 'succeeded' });
    const { token } = first.tokens.create({ name: 'ci', role: 'developer' });
    first.close();

    const second = open();

    expect(second.runs.get(run.id)).toEqual(finished);
    expect(second.services.get('shop').name).toBe('shop');
    expect(second.events.listSince(run.id, 0, 10)).toHaveLength(1);
    expect(second.tokens.verify(token)?.name).toBe('ci');
    expect(createRun(second).number).toBe(2);
  });

  it('finds the unfinished run after a handle is dropped without closing', () => {
    const crashed = open();
    seedService(crashed);
    const run = createRun(crashed);
    crashed.runs.transition(run.id, 'running');
    opened.pop(); // dropped, as a crash would: no close, no checkpoint

    const restarted = open();

    expect(restarted.runs.unfinished().map((r) => [r.id, r.status])).toEqual([[run.id, 'running']]);
    crashed.close();
  });

  it('loses nothing committed when the process is killed with SIGKILL', async () => {
    const result = await finished(child('crash', path));

    const restarted = open();

    expect(result.signal).toBe('SIGKILL');
    const [run] = restarted.runs.unfinished();
    expect(run?.id).toBe(result.stdout);
    expect(run?.status).toBe('running');
    expect(run?.stages[0]).toMatchObject({ status: 'running', attempt: 1, logPath: '/logs/build' });
    expect(restarted.events.listSince(result.stdout, 0, 10).map((e) => e.type)).toEqual([
      'stage.status',
    ]);
  });
});

describe('per-service run numbers under concurrency', () => {
  it('stay unique and consecutive across two connections taking turns', () => {
    const a = open();
    const b = open();
    seedService(a);

    const numbers: number[] = [];
    for (let i = 0; i < 20; i++) numbers.push(createRun(i % 2 === 0 ? a : b, `c${i}`).number);

    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(b.runs.list({ service: 'shop', limit: 100 })).toHaveLength(20);
  });

  it('stay unique and consecutive across two processes writing at once', async () => {
    const setup = open();
    seedService(setup);
    setup.close();

    const writers = [
      child('create-runs', path, 'shop', '1000'),
      child('create-runs', path, 'shop', '1000'),
    ];
    await Promise.all(writers.map(ready));
    const outcomes = writers.map((proc) => finished(proc));
    for (const proc of writers) proc.stdin.write('go\n');
    const results = await Promise.all(outcomes);

    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const numbers = results.flatMap((r) => numberList.parse(JSON.parse(r.stdout)));
    expect([...numbers].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 2000 }, (_, i) => i + 1),
    );
    const stored = open().runs.list({ service: 'shop', limit: 5000 });
    expect(stored.map((r) => r.number)).toEqual(Array.from({ length: 2000 }, (_, i) => 2000 - i));
  });
});
