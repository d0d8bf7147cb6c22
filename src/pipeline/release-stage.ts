import { z } from 'zod';
import { isDigest } from '../build/artifact-store.js';
import type { Release, ReleaseStore } from '../release/release.js';
import type { Stage } from './run.js';
import type { StageContext, StageResult, StageRunner } from './stage-runner.js';

/** The artifact a release is made of: CodeBuild's primary artifact. */
export const PRIMARY_ARTIFACT_ID = 'primary';

/** A buildspec with an `artifacts` section always has a primary artifact (its `files`). */
export const NO_ARTIFACTS_REASON =
  'the buildspec has no artifacts section: a release needs the files to run';

/** What the release stage reads of the build stage's output (see build-stage.ts). */
const buildOutputSchema = z.object({
  artifacts: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      digest: z.string().refine(isDigest, 'is a sha256 digest'),
    }),
  ),
});

export interface ReleaseStageOptions {
  releases: ReleaseStore;
}

/**
 * The release stage: records the build's primary artifact, with phoenix.yml's `release`
 * settings as they are at the run's commit, as the service's next release. Nothing is
 * copied or unpacked (the artifact store keeps the files; see release/release-files.ts).
 * Running it again for the same run (a retry, a restart) returns the release it recorded.
 */
export class ReleaseStageRunner implements StageRunner {
  constructor(private readonly options: ReleaseStageOptions) {}

  async run(context: StageContext): Promise<StageResult> {
    const { run, stage, config } = context;
    const existing = this.options.releases.findByRun(run.id);
    if (existing !== undefined) return succeeded(existing);
    if (config.release === undefined) {
      return { status: 'failed', reason: 'phoenix.yml has no release section' };
    }
    const build = buildBefore(run.stages, stage.index);
    const parsed = buildOutputSchema.safeParse(build?.output);
    if (build === undefined || !parsed.success) {
      return {
        status: 'failed',
        reason: 'no build output to make a release of',
        platformFailure: true,
      };
    }
    const primary = parsed.data.artifacts.find((artifact) => artifact.id === PRIMARY_ARTIFACT_ID);
    if (primary === undefined) return { status: 'failed', reason: NO_ARTIFACTS_REASON };
    const release = this.options.releases.create({
      service: run.service,
      runId: run.id,
      commit: run.commit,
      artifact: { name: primary.name, digest: primary.digest },
      config: config.release,
    });
    context.log({
      time: Date.now(),
      stream: 'system',
      text: `Recorded release #${release.number} (${release.id}) of ${primary.name} ${primary.digest}`,
    });
    return succeeded(release);
  }
}

/** The nearest succeeded build stage before `index`. */
function buildBefore(stages: readonly Stage[], index: number): Stage | undefined {
  return stages
    .slice(0, index)
    .findLast((stage) => stage.kind === 'build' && stage.status === 'succeeded');
}

function succeeded(release: Release): StageResult {
  return { status: 'succeeded', output: { releaseId: release.id, number: release.number } };
}
