import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../shared/errors.js';
import type { InstanceStatus } from '../runtime.js';
import { canTransition, instanceKey, transition, type InstanceRecord } from './instance-record.js';

describe('instance status', () => {
  it.each<[InstanceStatus, InstanceStatus, boolean]>([
    ['starting', 'running', true],
    ['starting', 'failed', true],
    ['running', 'restarting', true],
    ['restarting', 'running', true],
    ['restarting', 'stopping', true],
    ['running', 'stopping', true],
    ['failed', 'stopping', true],
    ['stopping', 'stopped', true],
    ['running', 'stopped', false],
    ['stopping', 'running', false],
    ['stopped', 'starting', false],
    ['stopped', 'stopping', false],
  ])('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('throws on an illegal transition and leaves the status', () => {
    const record = { id: 'i-1', status: 'stopped' } as Pick<InstanceRecord, 'id' | 'status'>;

    expect(() => transition(record as InstanceRecord, 'running')).toThrow(IllegalTransitionError);
    expect(record.status).toBe('stopped');
  });

  it('keys cannot collide through separators in names', () => {
    const a = { service: 'a/b', environment: 'c', releaseId: 'r', index: 0 };
    const b = { service: 'a', environment: 'b/c', releaseId: 'r', index: 0 };

    expect(instanceKey(a)).not.toBe(instanceKey(b));
  });
});
