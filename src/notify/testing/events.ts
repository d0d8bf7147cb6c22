import type { NotificationEvent } from '../notification-event.js';

/** One event of each type, as the pipeline and deploy code would publish them. */
const run = { id: 'run_01', number: 42, commit: '0123456789abcdef0123', ref: 'refs/heads/main' };
const release = { id: 'rel_01', number: 12, commit: '0123456789abcdef0123' };
const links = [{ label: 'Run #42', url: 'https://phoenix.example.com/runs/run_01' }];
const base = { service: 'shop', actor: 'alice', links };

export const SAMPLE_EVENTS = {
  'run.started': { type: 'run.started', ...base, run, environments: ['staging', 'prod'] },
  'run.succeeded': { type: 'run.succeeded', ...base, run, environments: ['staging', 'prod'] },
  'run.failed': {
    type: 'run.failed',
    ...base,
    run,
    environments: ['staging', 'prod'],
    stage: 'build',
    reason: 'npm test exited with 1',
  },
  'approval.waiting': {
    type: 'approval.waiting',
    ...base,
    environment: 'prod',
    approvalId: 'apr_01',
    run,
    release,
    message: 'Check the canary dashboard first',
    expiresAt: '2026-01-08T00:00:00.000Z',
    requiredApprovals: 2,
  },
  'approval.granted': {
    type: 'approval.granted',
    ...base,
    actor: 'bob',
    environment: 'prod',
    approvalId: 'apr_01',
    comment: 'looks good',
  },
  'approval.rejected': {
    type: 'approval.rejected',
    ...base,
    actor: 'carol',
    environment: 'prod',
    approvalId: 'apr_01',
    comment: 'not on a Friday',
  },
  'approval.expired': {
    type: 'approval.expired',
    service: 'shop',
    environment: 'prod',
    approvalId: 'apr_01',
  },
  'deployment.started': {
    type: 'deployment.started',
    ...base,
    environment: 'prod',
    deploymentId: 'dep_01',
    release,
    previousRelease: { id: 'rel_00', number: 11 },
    strategy: 'canary',
  },
  'deployment.promoted': {
    type: 'deployment.promoted',
    ...base,
    environment: 'prod',
    deploymentId: 'dep_01',
    release,
    fromEnvironment: 'staging',
  },
  'deployment.succeeded': {
    type: 'deployment.succeeded',
    ...base,
    environment: 'prod',
    deploymentId: 'dep_01',
    release,
  },
  'deployment.failed': {
    type: 'deployment.failed',
    ...base,
    environment: 'prod',
    deploymentId: 'dep_01',
    release,
    reason: 'health check failed on 2 of 3 instances',
  },
  'deployment.rolled-back': {
    type: 'deployment.rolled-back',
    ...base,
    actor: 'phoenix',
    environment: 'prod',
    deploymentId: 'dep_01',
    release,
    rolledBackTo: { id: 'rel_00', number: 11 },
    reason: 'alarm canary-error-rate went to ALARM',
    alarms: [
      {
        name: 'canary-error-rate',
        state: 'ALARM',
        reason: '3 of 3 datapoints > 5',
        datapoints: [
          {
            start: Date.UTC(2026, 0, 1, 12, 0, 1),
            end: Date.UTC(2026, 0, 1, 12, 0, 2),
            value: 7.5,
            breaching: true,
          },
          {
            start: Date.UTC(2026, 0, 1, 12, 0, 2),
            end: Date.UTC(2026, 0, 1, 12, 0, 3),
            value: 12.25,
            breaching: true,
          },
          {
            start: Date.UTC(2026, 0, 1, 12, 0, 3),
            end: Date.UTC(2026, 0, 1, 12, 0, 4),
            breaching: true,
          },
        ],
      },
    ],
  },
  'alarm.state-changed': {
    type: 'alarm.state-changed',
    service: 'shop',
    environment: 'prod',
    previousState: 'OK',
    alarm: { name: 'latency', state: 'ALARM', reason: '1 of 1 datapoints > 500' },
    deploymentId: 'dep_01',
  },
} satisfies { [T in NotificationEvent['type']]: Extract<NotificationEvent, { type: T }> };
