import pc from 'picocolors';
import type { ReleaseView } from '../release/release-view.js';
import { formatDuration } from '../shared/durations.js';
import type { Colors } from './api-command.js';
import { formatAge, type OutputContext } from './run-output.js';
import { formatTable, type Cell } from './table.js';

/** `shop release #3`: how people name a release. */
export function releaseName(release: Pick<ReleaseView, 'service' | 'number'>): string {
  return `${release.service} release #${release.number}`;
}

/** `sha256:0123456789ab`: enough of a digest to tell artifacts apart. */
export function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

export function formatReleasesTable(
  releases: readonly ReleaseView[],
  context: OutputContext,
): string {
  const colors = context.colors ?? pc;
  const rows = releases.map((release): Cell[] => [
    { text: `#${release.number}` },
    { text: release.id },
    { text: release.commit.slice(0, 12), style: colors.dim },
    { text: `${release.artifact.name} ${shortDigest(release.artifact.digest)}` },
    { text: formatAge(release.createdAt, context.now) },
  ]);
  return formatTable(['RELEASE', 'ID', 'COMMIT', 'ARTIFACT', 'AGE'], rows, colors);
}

/** One release for a person: where it came from, its files, how it starts and is checked. */
export function formatReleaseDetails(release: ReleaseView, context: OutputContext): string {
  const colors: Colors = context.colors ?? pc;
  const { config } = release;
  const check = config.healthCheck;
  const instances = `${config.instances} instance${config.instances === 1 ? '' : 's'}`;
  return [
    `${colors.bold(releaseName(release))}  ${colors.dim(release.id)}`,
    `  commit    ${release.commit}`,
    `  run       ${release.runId}`,
    `  artifact  ${release.artifact.name} ${release.artifact.digest}`,
    `  created   ${release.createdAt} (${formatAge(release.createdAt, context.now)})`,
    `  start     ${config.start} (${instances}, port in $${config.portEnv})`,
    `  health    GET ${check.path} every ${formatDuration(check.intervalMs)}, timeout ${formatDuration(check.timeoutMs)}, expects ${check.matcher.text}`,
    `            healthy after ${check.healthyThreshold} passes, unhealthy after ${check.unhealthyThreshold} failures, grace ${formatDuration(check.gracePeriodMs)}`,
  ].join('\n');
}
