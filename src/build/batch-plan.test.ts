import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuildspec, type Buildspec } from '../config/buildspec.js';
import { UnsupportedError, ValidationError } from '../shared/errors.js';
import { planBatch } from './batch-plan.js';

const CORPUS = join(import.meta.dirname, '../../../shared/corpus/buildspec');

function spec(batch: string): Buildspec {
  return parseBuildspec(
    `version: 0.2\nbatch:\n${batch}\nphases:\n  build:\n    commands:\n      - make\n`,
    'buildspec.yml',
  );
}

describe('planBatch with a build-graph', () => {
  it('refuses a dependency cycle, naming the tasks in it', () => {
    const cyclic = spec(`
  build-graph:
    - identifier: lint
    - identifier: a
      depend-on: [c, lint]
    - identifier: b
      depend-on: [a]
    - identifier: c
      depend-on: [b]
`);

    const error = catching(() => planBatch(cyclic));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      {
        location: { file: 'buildspec.yml', line: 7, column: 18 },
        key: 'batch.build-graph[1].depend-on',
        message: 'dependency cycle: a -> c -> b -> a',
      },
    ]);
  });

  it('refuses a task that depends on itself', () => {
    const cyclic = spec(`
  build-graph:
    - identifier: a
      depend-on: [a]
`);

    expect(() => planBatch(cyclic)).toThrow('dependency cycle: a -> a');
  });
});

describe('planBatch with a build-matrix', () => {
  it('keeps generated identifiers distinct and names host-only axes that vary', () => {
    const plan = planBatch(
      spec(`
  build-matrix:
    dynamic:
      env:
        image: [ubuntu:22.04, ubuntu:24.04]
        variables:
          FLAVOR: [a-b, a_b]
`),
    );

    expect(plan.tasks.map((task) => task.identifier)).toEqual([
      'FLAVOR_a_b_image_ubuntu_22_04',
      'FLAVOR_a_b_image_ubuntu_24_04',
      'FLAVOR_a_b_image_ubuntu_22_04_2',
      'FLAVOR_a_b_image_ubuntu_24_04_2',
    ]);
    expect(plan.warnings).toEqual([
      'buildspec.yml:7:16: batch.build-matrix.dynamic.env.image: matrix tasks ask for image ubuntu:22.04, ubuntu:24.04; Phoenix runs them on this host, so tasks differing only in it run the same build',
    ]);
  });
});

describe('planBatch', () => {
  it('warns about every CodeBuild machine setting, naming the task and key', () => {
    const plan = planBatch(
      spec(`
  build-list:
    - identifier: big
      debug-session: true
      env:
        image: aws/codebuild/standard:7.0
        compute-type: BUILD_GENERAL1_LARGE
        privileged-mode: true
    - identifier: plain
      env:
        privileged-mode: false
`),
    );

    expect(plan.tasks[0]?.warnings).toEqual([
      'buildspec.yml:8:16: batch.build-list[0].env.image: task big asks for image aws/codebuild/standard:7.0; Phoenix runs it on this host',
      'buildspec.yml:9:23: batch.build-list[0].env.compute-type: task big asks for compute-type BUILD_GENERAL1_LARGE; Phoenix runs it on this host',
      "buildspec.yml:10:26: batch.build-list[0].env.privileged-mode: task big asks for privileged mode; Phoenix runs it on this host, with the host's privileges",
      'buildspec.yml:6:22: batch.build-list[0].debug-session: task big asks for a debug session; Phoenix has none',
    ]);
    expect(plan.tasks[1]?.warnings).toEqual([]);
    expect(plan.warnings).toEqual(plan.tasks[0]?.warnings);
  });

  it('refuses build-fanout, which needs test splitting', () => {
    const fanout = spec(`
  build-fanout:
    parallelism: 4
`);

    const error = catching(() => planBatch(fanout));

    expect(error).toBeInstanceOf(UnsupportedError);
    expect((error as UnsupportedError).issues).toEqual([
      {
        location: { file: 'buildspec.yml', line: 5, column: 5 },
        key: 'batch.build-fanout',
        message: expect.stringContaining('test splitting'),
      },
    ]);
  });

  it("plans s2n-tls's Rust build-graph: ten tasks, each warned about its fleet", async () => {
    const file = 'aws__s2n-tls__codebuild_spec_buildspec_integ_rust.yml';
    const plan = planBatch(parseBuildspec(await readFile(join(CORPUS, file), 'utf8'), file));

    expect(plan.kind).toBe('build-graph');
    expect(plan.tasks).toHaveLength(10);
    expect(plan.tasks[0]).toEqual({
      identifier: 'Rust_openssl102_x86_0',
      buildspec: undefined,
      variables: {
        NIXDEV_LIBCRYPTO: '.#rust_openssl102',
        NIX_CACHE_BUCKET: 's3://s2n-tls-nixcachebucket-x86-64?region=us-west-2',
      },
      ignoreFailure: false,
      dependOn: [],
      warnings: [expect.stringContaining('env.fleet: task Rust_openssl102_x86_0 asks for fleet')],
    });
    expect(plan.warnings).toHaveLength(10);
  });

  it("plans s2n-tls's integration matrix: 3 presets x 4 test groups, three warnings", async () => {
    const file = 'aws__s2n-tls__codebuild_spec_buildspec_ubuntu_integrationv2.yml';
    const plan = planBatch(parseBuildspec(await readFile(join(CORPUS, file), 'utf8'), file));

    expect(plan.kind).toBe('build-matrix');
    expect(plan.tasks).toHaveLength(12);
    expect(new Set(plan.tasks.map((task) => task.identifier)).size).toBe(12);
    expect(plan.tasks[0]).toMatchObject({
      identifier: 'S2N_BUILD_PRESET_openssl_1_0_2_INTEGV2_TEST_test_happy_path',
      variables: { S2N_BUILD_PRESET: 'openssl-1.0.2', INTEGV2_TEST: 'test_happy_path' },
    });
    expect(plan.warnings.map((warning) => warning.split(': ')[1])).toEqual([
      'batch.build-matrix.static.env.privileged-mode',
      'batch.build-matrix.dynamic.env.image',
      'batch.build-matrix.dynamic.env.compute-type',
    ]);
  });
});

function catching(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
