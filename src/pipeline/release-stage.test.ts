import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ArtifactStore } from '../build/artifact-store.js';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import { ensureUnpacked, releasesRootOf, removeUnpacked } from '../release/release-files.js';
import { PHOENIX_YML, PipelineFixture } from '../../test/support/pipeline-fixture.js';
import { NO_ARTIFACTS_REASON, ReleaseStageRunner } from './release-stage.js';
import type { Run } from './run.js';

const RELEASE = 'release:\n  start: node server.js\n  instances: 2\n';

const WITH_ARTIFACTS = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - mkdir -p dist && echo "console.log($CODEBUILD_RESOLVED_SOURCE_VERSION)" > dist/server.js',
  'artifacts:',
  '  name: shop-web',
  '  base-directory: dist',
  '  files:',
  "    - '**/*'",
].join('\n');

const WITHOUT_ARTIFACTS =
  'version: 0.2\nphases:\n  build:\n    commands:\n      - echo "built, nothing kept"\n';

const buildOutput = z.object({ artifacts: z.array(z.object({ digest: z.string() })) });

function statuses(run: Run): string[] {
  return [`run:${run.status}`, ...run.stages.map((stage) => `${stage.name}:${stage.status}`)];
}

describe('the release stage in a pipeline run', () => {
  let f: PipelineFixture;

  beforeEach(() => {
    f = new PipelineFixture();
  });

  afterEach(async () => {
    await f.close();
  });

  it("records the build's primary artifact and the release settings as the service's release", async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(RELEASE),
      'buildspec.yml': WITH_ARTIFACTS,
    });

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual([
      'run:succeeded',
      'source:succeeded',
      'build:succeeded',
      'release:succeeded',
    ]);
    const [primary] = buildOutput.parse(run.stages[1]?.output).artifacts;
    const release = f.store.releases.latest('shop');
    expect(release).toMatchObject({
      service: 'shop',
      number: 1,
      runId: run.id,
      commit,
      artifact: { name: 'shop-web', digest: primary?.digest },
      config: { start: 'node server.js', instances: 2, portEnv: 'PORT' },
    });
    expect(primary?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.stages[2]?.output).toEqual({ releaseId: release?.id, number: 1 });
  });

  it('makes a release whose files unpack to what the build produced', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(RELEASE),
      'buildspec.yml': WITH_ARTIFACTS,
    });
    await f.finished(await f.submit(commit));
    const release = f.store.releases.getByNumber('shop', 1);
    const releasesRoot = releasesRootOf(f.home);

    const directory = await ensureUnpacked(release, {
      artifacts: new ArtifactStore(join(f.home, 'artifacts')),
      releasesRoot,
    });

    expect(await readFile(join(directory, 'server.js'), 'utf8')).toBe(`console.log(${commit})\n`);
    await removeUnpacked(release.id, releasesRoot);
  });

  it('numbers the releases of successive runs', async () => {
    const first = await f.init({
      'phoenix.yml': PHOENIX_YML(RELEASE),
      'buildspec.yml': WITH_ARTIFACTS,
    });
    await f.finished(await f.submit(first));
    const second = f.push({ 'README.md': 'v2\n' });

    const run = await f.finished(await f.submit(second));

    expect(f.store.releases.latest('shop')).toMatchObject({
      number: 2,
      commit: second,
      runId: run.id,
    });
    expect(f.store.releases.list({ service: 'shop', limit: 10 }).map((r) => r.commit)).toEqual([
      second,
      first,
    ]);
  });

  it('fails the release stage, saying why, when the buildspec keeps no artifacts', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(RELEASE),
      'buildspec.yml': WITHOUT_ARTIFACTS,
    });

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual([
      'run:failed',
      'source:succeeded',
      'build:succeeded',
      'release:failed',
    ]);
    expect(run.stages[2]?.reason).toBe(NO_ARTIFACTS_REASON);
    expect(run.stages[2]?.platformFailure).toBeUndefined();
    expect(run.reason).toBe(`release failed: ${NO_ARTIFACTS_REASON}`);
    expect(f.store.releases.latest('shop')).toBeUndefined();
  });

  it('has no release stage when phoenix.yml has no release section', async () => {
    const commit = await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': WITH_ARTIFACTS });

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual(['run:succeeded', 'source:succeeded', 'build:succeeded']);
    expect(f.store.releases.latest('shop')).toBeUndefined();
  });

  it('returns the release it recorded when it runs again for the same run', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(RELEASE),
      'buildspec.yml': WITH_ARTIFACTS,
    });
    const run = await f.finished(await f.submit(commit));
    const recorded = f.store.releases.findByRun(run.id);
    const stage = run.stages[2];
    if (stage === undefined) throw new Error('no release stage');

    const again = await new ReleaseStageRunner({ releases: f.store.releases }).run({
      run,
      stage,
      config: parsePhoenixConfig(PHOENIX_YML(RELEASE), 'phoenix.yml'),
      signal: new AbortController().signal,
      started: async () => undefined,
      log: () => undefined,
    });

    expect(again).toEqual({
      status: 'succeeded',
      output: { releaseId: recorded?.id, number: 1 },
    });
    expect(f.store.releases.list({ service: 'shop', limit: 10 })).toHaveLength(1);
  });
});
