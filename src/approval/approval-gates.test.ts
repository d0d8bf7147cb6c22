import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../shared/clock.js';
import { ConflictError, NotPermittedError } from '../shared/errors.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import { ApprovalGates } from './approval-gates.js';
import { refusalOf, type Approval } from './approval.js';

const HOUR = 3_600_000;
let clock: FakeClock;
let scratch: ScratchStore;
let gates: ApprovalGates;

beforeEach(async () => {
  clock = new FakeClock();
  scratch = await openScratchStore({
    prefix: 'phoenix-approvals-',
    now: () => clock.now(),
    services: ['shop'],
  });
  gates = new ApprovalGates({ approvals: scratch.store.approvals, clock });
});

afterEach(async () => {
  await scratch.close();
});

function openGate(options: { count?: number; self?: boolean } = {}): Approval {
  const run = scratch.store.runs.create({
    service: 'shop',
    commit: 'c0ffee',
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice' },
    stages: [
      { name: 'source', kind: 'source' },
      { name: 'approve:prod', kind: 'approval' },
    ],
  });
  return scratch.store.approvals.open({
    runId: run.id,
    stageIndex: 1,
    service: 'shop',
    environment: 'prod',
    requester: 'alice',
    fresh: true,
    config: {
      approvers: ['role:approver', 'alice', 'bob'],
      count: options.count ?? 1,
      timeoutMs: 2 * HOUR,
      allowSelfApproval: options.self ?? false,
    },
  });
}

const decide = (name: string, role = 'developer') => ({
  service: 'shop',
  environment: 'prod',
  approver: { name, role },
});

describe('refusalOf', () => {
  it.each([
    { who: { name: 'amy', role: 'approver' }, self: false, refused: undefined },
    { who: { name: 'bob', role: 'viewer' }, self: false, refused: undefined },
    { who: { name: 'dan', role: 'developer' }, self: false, refused: /not among the approvers/ },
    { who: { name: 'dan', role: 'admin' }, self: false, refused: /not among the approvers/ },
    { who: { name: 'alice', role: 'developer' }, self: false, refused: /own change/ },
    { who: { name: 'alice', role: 'developer' }, self: true, refused: undefined },
  ])('$who.name ($who.role), self-approval $self: $refused', ({ who, self, refused }) => {
    const gate = openGate({ self });

    const refusal = refusalOf(gate, who);

    if (refused === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(refused);
  });
});

describe('ApprovalGates', () => {
  it('opens one gate per run stage: the same one while it waits or after a restart, a new one for a retry', () => {
    const gate = openGate();
    const reopen = (fresh: boolean) =>
      scratch.store.approvals.open({
        runId: gate.runId,
        stageIndex: 1,
        service: 'shop',
        environment: 'prod',
        requester: 'alice',
        fresh,
        config: { approvers: ['bob'], count: 3, timeoutMs: HOUR, allowSelfApproval: true },
      });

    const whileWaiting = reopen(true);
    gates.reject(decide('bob'));
    const afterRestart = reopen(false);
    const retried = reopen(true);

    expect(whileWaiting).toEqual(gate);
    expect(afterRestart).toMatchObject({ id: gate.id, status: 'rejected' });
    expect(retried).toMatchObject({ status: 'waiting', required: 3, votes: [] });
    expect(retried.id).not.toBe(gate.id);
  });

  it('grants with enough approvals from different people, and wakes the run waiting', async () => {
    const gate = openGate({ count: 2 });
    const decided = gates.decided(gate.id, new AbortController().signal);

    gates.approve(decide('amy', 'approver'));
    expect(() => gates.approve(decide('amy', 'approver'))).toThrow(ConflictError);
    gates.approve({ ...decide('bob'), comment: 'ok' });

    expect(await decided).toMatchObject({
      status: 'granted',
      reason: 'approved by amy, bob: ok',
      votes: [
        { actor: 'amy', decision: 'approve' },
        { actor: 'bob', decision: 'approve', comment: 'ok' },
      ],
    });
  });

  it('refuses the one who pushed, and those not listed, recording nothing', () => {
    const gate = openGate();

    expect(() => gates.approve(decide('alice'))).toThrow(NotPermittedError);
    expect(() => gates.reject(decide('dan'))).toThrow(NotPermittedError);
    expect(scratch.store.approvals.get(gate.id)).toMatchObject({ status: 'waiting', votes: [] });
  });

  it('expires when its time passes, by the clock, and then takes no vote', async () => {
    const gate = openGate();
    const decided = gates.decided(gate.id, new AbortController().signal);

    clock.advance(2 * HOUR);

    expect(await decided).toMatchObject({
      status: 'expired',
      reason: expect.stringMatching(/^not approved in time: 0 of 1 approvals by /),
    });
    expect(() => gates.approve(decide('amy', 'approver'))).toThrow(ConflictError);
  });

  it('refuses a vote that comes after the deadline, marking the gate expired', () => {
    const gate = openGate();

    clock.advance(2 * HOUR + 1);

    expect(() =>
      scratch.store.approvals.vote(gate.id, { actor: 'amy', decision: 'approve' }),
    ).toThrow(/expired/);
    expect(scratch.store.approvals.get(gate.id).status).toBe('expired');
  });

  it('stops waiting when the run is cancelled', async () => {
    const gate = openGate();
    const abort = new AbortController();
    const decided = gates.decided(gate.id, abort.signal);

    abort.abort(new Error('cancelled'));

    await expect(decided).rejects.toThrow('cancelled');
  });
});
