import { describe, expect, it } from 'vitest';
import { RouteValidationError } from './route-errors.js';
import { parseRoute, splitSchema, targetGroupSpecSchema } from './route-schemas.js';
import type { HealthCheckSpec } from './traffic-router.js';

const CHECK: HealthCheckSpec = {
  path: '/health',
  intervalMs: 1000,
  timeoutMs: 500,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: [[200, 299]],
  gracePeriodMs: 0,
};

function issuesOf(action: () => unknown): { field: string; message: string }[] {
  try {
    action();
  } catch (error) {
    if (error instanceof RouteValidationError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('split validation', () => {
  it.each([
    { split: [{ group: 'a', weight: 100 }], issues: [] },
    {
      split: [
        { group: 'a', weight: 0 },
        { group: 'b', weight: 100 },
      ],
      issues: [],
    },
    {
      split: [
        { group: 'a', weight: 60 },
        { group: 'b', weight: 30 },
      ],
      issues: [{ field: 'split', message: 'weights add up to 90; they must add up to 100' }],
    },
    { split: [], issues: [{ field: 'split', message: 'names at least one target group' }] },
    {
      split: [
        { group: 'a', weight: 50.5 },
        { group: 'b', weight: 49.5 },
      ],
      issues: [
        { field: 'split.0.weight', message: 'Expected integer, received float' },
        { field: 'split.1.weight', message: 'Expected integer, received float' },
      ],
    },
    {
      split: [
        { group: 'a', weight: -10 },
        { group: 'b', weight: 110 },
      ],
      issues: [
        { field: 'split.0.weight', message: 'Number must be greater than or equal to 0' },
        { field: 'split.1.weight', message: 'Number must be less than or equal to 100' },
      ],
    },
  ])('$split → $issues', ({ split, issues }) => {
    expect(issuesOf(() => parseRoute(splitSchema, split, 'split'))).toEqual(issues);
  });
});

describe('target group validation', () => {
  it.each([
    {
      case: 'a repeated id',
      targets: [
        { id: 'a', host: 'h', port: 1 },
        { id: 'a', host: 'h', port: 2 },
      ],
      field: 'targets.1.id',
    },
    {
      case: 'a repeated address',
      targets: [
        { id: 'a', host: 'h', port: 1 },
        { id: 'b', host: 'h', port: 1 },
      ],
      field: 'targets.1.port',
    },
    { case: 'a port of 0', targets: [{ id: 'a', host: 'h', port: 0 }], field: 'targets.0.port' },
    {
      case: 'a host with a slash',
      targets: [{ id: 'a', host: 'h/x', port: 1 }],
      field: 'targets.0.host',
    },
  ])('names the field for $case', ({ targets, field }) => {
    const issues = issuesOf(() =>
      parseRoute(targetGroupSpecSchema, { name: 'blue', targets, healthCheck: CHECK }),
    );

    expect(issues.map((issue) => issue.field)).toEqual([field]);
  });

  it.each([
    { change: { matcher: [[299, 200]] }, field: 'healthCheck.matcher.0' },
    { change: { matcher: [] }, field: 'healthCheck.matcher' },
    { change: { intervalMs: 0 }, field: 'healthCheck.intervalMs' },
    { change: { path: '/has space' }, field: 'healthCheck.path' },
    { change: { healthyThreshold: 11 }, field: 'healthCheck.healthyThreshold' },
  ])('refuses a health check with $change', ({ change, field }) => {
    const healthCheck = { ...CHECK, ...change };

    const issues = issuesOf(() =>
      parseRoute(targetGroupSpecSchema, { name: 'blue', targets: [], healthCheck }),
    );

    expect(issues.map((issue) => issue.field)).toEqual([field]);
  });
});
