import { describe, expect, it } from 'vitest';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import type { ReleaseView } from '../release/release-view.js';
import { plainColors } from './api-command.js';
import { formatReleaseDetails, formatReleasesTable } from './release-output.js';

const NOW = Date.parse('2030-01-02T12:00:00.000Z');
const colors = plainColors();
const DIGEST = `sha256:0123456789ab${'f'.repeat(52)}`;

function release(fields: Partial<ReleaseView>): ReleaseView {
  const config = parsePhoenixConfig(
    [
      'service: shop',
      'release:',
      '  start: node server.js',
      '  health-check:',
      '    path: /ready',
      '    interval: 10s',
      '    timeout: 2s',
      '    healthy-threshold: 3',
      '    unhealthy-threshold: 2',
      '    matcher: 200-299',
      '    grace-period: 30s',
    ].join('\n'),
    'phoenix.yml',
  ).release;
  if (config === undefined) throw new Error('no release section');
  return {
    id: 'rel_1',
    service: 'shop',
    number: 1,
    runId: 'r_1',
    commit: '0123456789abcdef0123456789abcdef01234567',
    artifact: { name: 'shop-web', digest: DIGEST },
    config,
    createdAt: '2030-01-02T11:58:00.000Z',
    url: '/api/releases/rel_1',
    runUrl: '/api/runs/r_1',
    ...fields,
  };
}

describe('formatReleasesTable', () => {
  it('shows number, id, commit, artifact and age, lined up', () => {
    const releases = [
      release({ number: 12, id: 'rel_12', createdAt: '2030-01-02T11:00:00.000Z' }),
      release({ artifact: { name: 'shop', digest: DIGEST } }),
    ];

    const table = formatReleasesTable(releases, { now: NOW, colors });

    expect(table.split('\n')).toEqual([
      'RELEASE  ID      COMMIT        ARTIFACT                      AGE',
      '#12      rel_12  0123456789ab  shop-web sha256:0123456789ab  1h ago',
      '#1       rel_1   0123456789ab  shop sha256:0123456789ab      2m ago',
    ]);
  });
});

describe('formatReleaseDetails', () => {
  it('shows where the release came from and how it starts and is checked', () => {
    const details = formatReleaseDetails(release({}), { now: NOW, colors });

    expect(details.split('\n')).toEqual([
      'shop release #1  rel_1',
      '  commit    0123456789abcdef0123456789abcdef01234567',
      '  run       r_1',
      `  artifact  shop-web ${DIGEST}`,
      '  created   2030-01-02T11:58:00.000Z (2m ago)',
      '  start     node server.js (1 instance, port in $PORT)',
      '  health    GET /ready every 10.0s, timeout 2.00s, expects 200-299',
      '            healthy after 3 passes, unhealthy after 2 failures, grace 30.0s',
    ]);
  });
});
