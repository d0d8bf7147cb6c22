import { describe, expect, it } from 'vitest';
import { ServiceLanes } from './lanes.js';

describe('ServiceLanes', () => {
  it('lets every run go in parallel mode', () => {
    const lanes = new ServiceLanes();

    const admissions = ['a', 'b', 'c'].map((run) => lanes.enter('shop', 'parallel', run, 'build'));

    expect(admissions).toEqual([{ go: true }, { go: true }, { go: true }]);
  });

  it('keeps one run in the pipeline in queued mode and starts the next in arrival order', () => {
    const lanes = new ServiceLanes();

    const a = lanes.enter('shop', 'queued', 'a', 'build');
    const b = lanes.enter('shop', 'queued', 'b', 'build');
    const c = lanes.enter('shop', 'queued', 'c', 'build');
    const aLater = lanes.enter('shop', 'queued', 'a', 'deploy');
    const afterA = lanes.finish('shop', 'a', () => 'build');
    const afterB = lanes.finish('shop', 'b', () => 'build');

    expect([a, b, c, aLater]).toEqual([{ go: true }, { go: false }, { go: false }, { go: true }]);
    expect(afterA).toEqual([{ runId: 'b', stage: 'build' }]);
    expect(afterB).toEqual([{ runId: 'c', stage: 'build' }]);
  });

  it('supersedes an older run waiting for a busy stage in superseded mode', () => {
    const lanes = new ServiceLanes();

    const a = lanes.enter('shop', 'superseded', 'a', 'build');
    const b = lanes.enter('shop', 'superseded', 'b', 'build');
    const c = lanes.enter('shop', 'superseded', 'c', 'build');
    const promoted = lanes.leave('shop', 'a', 'build');
    const aNext = lanes.enter('shop', 'superseded', 'a', 'deploy');

    expect([a, b, c]).toEqual([{ go: true }, { go: false }, { go: false, superseded: 'b' }]);
    expect(promoted).toEqual({ runId: 'c', stage: 'build' });
    expect(aNext).toEqual({ go: true });
  });

  it('keeps services apart', () => {
    const lanes = new ServiceLanes();

    lanes.enter('shop', 'queued', 'a', 'build');
    const other = lanes.enter('billing', 'queued', 'x', 'build');

    expect(other).toEqual({ go: true });
  });

  it('frees what a cancelled run held or waited for', () => {
    const lanes = new ServiceLanes();
    lanes.enter('shop', 'superseded', 'a', 'build');
    lanes.enter('shop', 'superseded', 'b', 'build');

    const afterCancelA = lanes.finish('shop', 'a', () => undefined);
    const c = lanes.enter('shop', 'superseded', 'c', 'deploy');
    lanes.enter('shop', 'superseded', 'd', 'deploy');
    const afterWithdrawD = lanes.finish('shop', 'd', () => undefined);
    const afterC = lanes.leave('shop', 'c', 'deploy');

    expect(afterCancelA).toEqual([{ runId: 'b', stage: 'build' }]);
    expect(c).toEqual({ go: true });
    expect(afterWithdrawD).toEqual([]);
    expect(afterC).toBeUndefined();
  });
});
