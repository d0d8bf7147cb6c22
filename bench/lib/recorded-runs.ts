import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';

/** Time between the recorded runs' steps; they look like history, well before the bench. */
const STEP_MS = 5;
const HISTORY_GAP_MS = 60_000;
/** What a noop build's stage records, so the rows are as large as real ones. */
const BUILD_DURATION_MS = 200;

/**
 * Records `count` finished, succeeded runs of `service` straight into the server's database,
 * through the store's own repositories and in the order the orchestrator writes (run.created,
 * each stage running then succeeded, run.finished). Only while no server has the database
 * open: the bench stops the server first and starts it again afterwards.
 */
export function recordFinishedRuns(options: {
  home: string;
  service: string;
  commit: string;
  count: number;
}): void {
  let clock = Date.now() - HISTORY_GAP_MS - options.count * 10 * STEP_MS;
  const now = (): number => (clock += STEP_MS);
  const iso = (): string => new Date(now()).toISOString();
  const store = openStore(join(options.home, 'phoenix.db'), now);
  try {
    const { runs, events } = store;
    const ref = 'refs/heads/main';
    const recordAll = store.db.transaction(() => {
      for (let index = 0; index < options.count; index++) {
        const trigger = { type: 'manual' as const, actor: 'admin' };
        const run = runs.create({
          service: options.service,
          commit: options.commit,
          ref,
          trigger,
          stages: [
            { name: 'source', kind: 'source' },
            { name: 'build', kind: 'build' },
          ],
        });
        const stage = (at: number, status: 'running' | 'succeeded', fields = {}): void => {
          runs.transitionStage(run.id, at, status, fields);
          events.append(run.id, 'stage.status', { index: at, status });
        };
        events.append(run.id, 'run.created', { trigger, commit: options.commit, ref });
        stage(0, 'running', { startedAt: iso() });
        stage(0, 'succeeded', {
          finishedAt: iso(),
          output: { commit: options.commit, ref, executionMode: 'parallel' },
        });
        runs.transition(run.id, 'running', { startedAt: iso() });
        stage(1, 'running', { startedAt: iso() });
        const buildId = `${options.service}:recorded-${index + 1}`;
        runs.updateStage(run.id, 1, { externalId: buildId });
        events.append(run.id, 'stage.started', { index: 1, externalId: buildId });
        stage(1, 'succeeded', {
          finishedAt: iso(),
          output: {
            buildId,
            buildNumber: index + 1,
            status: 'SUCCEEDED',
            durationMs: BUILD_DURATION_MS,
            artifacts: [],
            reports: [],
            exportedVariables: {},
          },
        });
        runs.transition(run.id, 'succeeded', { finishedAt: iso() });
        events.append(run.id, 'run.finished', { status: 'succeeded' });
      }
    });
    recordAll.immediate();
  } finally {
    store.close();
  }
}
