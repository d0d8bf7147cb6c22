import { describe, expect, it } from 'vitest';
import { plainColors } from './api-command.js';
import type { RunView } from '../pipeline/run-view.js';
import { branchOf, formatAge, formatRunDetails, formatRunsTable } from './run-output.js';

const NOW = Date.parse('2030-01-02T12:00:00.000Z');
const colors = plainColors();

function run(fields: Partial<RunView>): RunView {
  return {
    id: 'r_1',
    service: 'shop',
    number: 1,
    status: 'succeeded',
    commit: '0123456789abcdef0123456789abcdef01234567',
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice' },
    createdAt: '2030-01-02T11:58:00.000Z',
    startedAt: '2030-01-02T11:58:00.000Z',
    finishedAt: '2030-01-02T11:58:42.500Z',
    stages: [],
    url: '/api/runs/r_1',
    ...fields,
  };
}

describe('formatRunsTable', () => {
  it('lines up columns by their visible width', () => {
    const runs = [
      run({ number: 12, service: 'payments', status: 'running', finishedAt: undefined }),
      run({ number: 3, ref: 'refs/tags/v1.0.0', trigger: { type: 'manual', actor: 'ci' } }),
    ];

    const table = formatRunsTable(runs, { now: NOW, colors });

    expect(table.split('\n')).toEqual([
      'RUN  SERVICE   STATUS     BRANCH      COMMIT        TRIGGER        AGE     DURATION',
      '#12  payments  running    main        0123456789ab  push by alice  2m ago  2m00s',
      '#3   shop      succeeded  tag v1.0.0  0123456789ab  manual by ci   2m ago  42.5s',
    ]);
  });
});

describe('formatRunDetails', () => {
  it('shows stages with attempts, reasons, artifacts, reports and refused configuration', () => {
    const details = formatRunDetails(
      run({
        status: 'failed',
        reason: 'build failed',
        stages: [
          {
            index: 0,
            name: 'source',
            kind: 'source',
            status: 'failed',
            attempt: 1,
            startedAt: '2030-01-02T11:58:00.000Z',
            finishedAt: '2030-01-02T11:58:00.120Z',
            reason: 'invalid phoenix.yml',
            output: {
              issues: [
                {
                  location: { file: 'phoenix.yml', line: 3, column: 5 },
                  key: 'build.timeout',
                  message: 'is not a duration',
                },
              ],
            },
          },
          {
            index: 1,
            name: 'build',
            kind: 'build',
            status: 'failed',
            attempt: 2,
            startedAt: '2030-01-02T11:58:01.000Z',
            finishedAt: '2030-01-02T11:58:31.000Z',
            reason: 'exit status 137',
            platformFailure: true,
            output: {
              buildId: 'shop:b1',
              buildNumber: 7,
              artifacts: [{ id: 'a1' }, { id: 'a2' }],
              reports: [
                {
                  name: 'unit',
                  summary: { passed: 10, failed: 1, errors: 0, skipped: 2 },
                  failures: [{ suite: 'cart', name: 'adds items' }],
                },
              ],
            },
          },
        ],
      }),
      { now: NOW, colors },
    );

    expect(details.split('\n')).toEqual([
      'shop #1  failed  r_1',
      '  commit    0123456789abcdef0123456789abcdef01234567 (main)',
      '  trigger   push by alice',
      '  created   2030-01-02T11:58:00.000Z (2m ago)',
      '  duration  42.5s',
      '  reason    build failed',
      '',
      '  stages',
      '    source  failed         120ms',
      '      invalid phoenix.yml',
      '      phoenix.yml:3:5: build.timeout: is not a duration',
      '    build   failed         30.0s  attempt 2',
      '      exit status 137 (platform failure)',
      '      build shop:b1 #7: 2 artifacts',
      '      report unit: 10 passed, 1 failed, 0 errors, 2 skipped',
      '        ✗ cart › adds items',
    ]);
  });
});

describe('formatRunDetails of a release stage', () => {
  it('names the release the stage recorded', () => {
    const details = formatRunDetails(
      run({
        stages: [
          {
            index: 2,
            name: 'release',
            kind: 'release',
            status: 'succeeded',
            attempt: 1,
            startedAt: '2030-01-02T11:58:40.000Z',
            finishedAt: '2030-01-02T11:58:40.004Z',
            output: { releaseId: 'rel_0mwr2q5ez6trjwz53', number: 3 },
          },
        ],
      }),
      { now: NOW, colors },
    );

    expect(details.split('\n').slice(-2)).toEqual([
      '    release  succeeded        4ms',
      '      release #3 rel_0mwr2q5ez6trjwz53',
    ]);
  });
});

describe('small formats', () => {
  it.each([
    ['refs/heads/release/1.x', 'release/1.x'],
    ['refs/tags/v2', 'tag v2'],
    ['0123abc', '0123abc'],
  ])('branchOf(%s) is %s', (ref, shown) => {
    expect(branchOf(ref)).toBe(shown);
  });

  it.each([
    [5_000, '5s ago'],
    [5 * 60_000, '5m ago'],
    [30 * 3_600_000, '30h ago'],
    [3 * 86_400_000, '3d ago'],
  ])('formatAge of %i ms is %s', (ago, shown) => {
    expect(formatAge(new Date(NOW - ago).toISOString(), NOW)).toBe(shown);
  });
});
