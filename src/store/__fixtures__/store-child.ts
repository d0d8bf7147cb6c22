/**
 * A second process for store tests, run with `node --import tsx`:
 *   create-runs DB SERVICE COUNT  prints `ready`, waits for a line on stdin (so that two
 *                                 processes start writing together), creates COUNT runs,
 *                                 prints their numbers as JSON
 *   crash DB                      records a running run, prints its id, then kill -9s itself
 */
import { openStore, type Store } from '../store.js';

const [command, path, ...rest] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: store-child.ts COMMAND DB ...');
const store = openStore(path);

if (command === 'create-runs') {
  const [service = '', count = '0'] = rest;
  process.stdout.write('ready\n');
  process.stdin.once('data', () => {
    process.stdin.destroy();
    const numbers = createRuns(store, service, Number(count));
    store.close();
    process.stdout.write(JSON.stringify(numbers));
  });
} else if (command === 'crash') {
  const runId = recordRunningRun(store);
  process.stdout.write(runId, () => process.kill(process.pid, 'SIGKILL'));
} else {
  throw new Error(`unknown command ${command}`);
}

function createRuns(store: Store, service: string, count: number): number[] {
  const numbers: number[] = [];
  for (let i = 0; i < count; i++) {
    const run = store.runs.create({
      service,
      commit: `c${i}`,
      ref: 'refs/heads/main',
      trigger: { type: 'push', actor: `pid ${process.pid}` },
      stages: [{ name: 'build', kind: 'build' }],
    });
    numbers.push(run.number);
  }
  return numbers;
}

function recordRunningRun(store: Store): string {
  store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/shop' } });
  const run = store.runs.create({
    service: 'shop',
    commit: 'abc',
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice' },
    stages: [{ name: 'build', kind: 'build' }],
  });
  store.runs.transition(run.id, 'running');
  store.runs.transitionStage(run.id, 0, 'running', { logPath: '/logs/build' });
  store.events.append(run.id, 'stage.status', { index: 0, status: 'running' });
  return run.id;
}
