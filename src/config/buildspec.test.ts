import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../shared/errors.js';
import { parseBuildspec, parseSecretReference } from './buildspec.js';

function issuesOf(text: string): string[] {
  try {
    parseBuildspec(text, 'buildspec.yml');
  } catch (error) {
    if (error instanceof ValidationError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected the buildspec to be refused');
}

describe('parseBuildspec', () => {
  it('reads phases, commands with their lines, env and artifacts', () => {
    const spec = parseBuildspec(
      [
        'version: 0.2',
        'env:',
        '  variables:',
        '    CI: true',
        '    JOBS: 4',
        '  exported-variables: [VERSION]',
        'phases:',
        '  build:',
        '    on-failure: RETRY-2-flaky',
        '    commands:',
        '      - npm test',
        '    finally:',
        '      - echo done',
        'artifacts:',
        '  files: dist/**/*',
        '  discard-paths: yes',
      ].join('\n'),
      'buildspec.yml',
    );

    expect(spec.version).toBe('0.2');
    expect(spec.env.variables).toEqual({ CI: 'true', JOBS: '4' });
    expect(spec.env.exportedVariables).toEqual(['VERSION']);
    const build = spec.phases[0];
    expect(build?.name).toBe('build');
    expect(build?.commands[0]).toMatchObject({
      text: 'npm test',
      key: 'phases.build.commands[0]',
      location: { line: 11, column: 9 },
    });
    expect(build?.finally.map((c) => c.text)).toEqual(['echo done']);
    expect(build?.onFailure?.value).toMatchObject({ action: 'RETRY', retries: 2 });
    expect(spec.artifacts[0]).toMatchObject({
      id: 'primary',
      files: ['dist/**/*'],
      discardPaths: true,
    });
  });

  it.each([
    [
      'version: 0.2\nphases:\n  build:\n    commands:\n      - [a, b\n',
      /^buildspec.yml:\d+:\d+: invalid YAML/,
    ],
    [
      'version: 0.2\nphases:\n  biuld:\n    commands: [make]\n',
      /^buildspec.yml:3:3: phases.biuld: unknown key "biuld" \(did you mean "build"\?\)$/,
    ],
    [
      'version: 0.2\nphases:\n  build:\n    commands:\n      - echo: hi\n',
      /^buildspec.yml:5:9: phases.build.commands\[0\]: a command must be a string, got a mapping/,
    ],
    ['version: 0.3\nphases: {}\n', /^buildspec.yml:1:10: version: expected version 0.2/],
    [
      'version: 0.2\nphases:\n  build:\n    on-failure: IGNORE\n',
      /^buildspec.yml:4:17: phases.build.on-failure: "IGNORE" is not one of/,
    ],
    [
      'version: 0.2\nenv:\n  variables:\n    CODEBUILD_X: 1\n',
      /^buildspec.yml:4:18: env.variables.CODEBUILD_X: the CODEBUILD_ prefix is reserved/,
    ],
    [
      'version: 0.2\nenv:\n  variables:\n    my-var: 1\n',
      /env.variables.my-var: environment variable names must be shell identifiers/,
    ],
    ['version: 0.2\nversion: 0.2\n', /^buildspec.yml:2:1: version: duplicate key "version"$/],
    [
      'version: 0.2\nphases:\n  build:\n    runtime-versions: {nodejs: 18}\n',
      /runtime-versions is only allowed in the install phase/,
    ],
    [
      'version: 0.2\nartifacts:\n  name: x\n',
      /^buildspec.yml:3:3: artifacts: artifacts.files is required/,
    ],
    [
      'version: 0.2\nreports:\n  r:\n    files: [a.xml]\n    file-format: XUNIT\n',
      /reports.r.file-format: expected one of JUNITXML/,
    ],
    ['- just\n- a list\n', /a buildspec must be a YAML mapping/],
    [
      'version: 0.2\nenv:\n  secrets-manager:\n    X: "a:b:c:d:e"\n',
      /expected secret-id\[:json-key/,
    ],
  ])('refuses bad input with file, line, column and key: %#', (text, expected) => {
    const issues = issuesOf(text);

    expect(issues.some((issue) => expected.test(issue))).toBe(true);
  });

  it('reports every problem of a file at once', () => {
    const issues = issuesOf('version: 0.2\nphases:\n  biuld: {}\n  post-build: {}\n');

    expect(issues).toHaveLength(2);
  });

  it('warns, not silently ignores, what a single machine cannot honour', () => {
    const spec = parseBuildspec(
      'version: 0.2\nproxy:\n  logs: yes\nphases:\n  install:\n    runtime-versions:\n      nodejs: 18\n',
      'b.yml',
    );

    expect(spec.warnings.map((w) => `${w.key}: ${w.message}`)).toEqual([
      'proxy: proxy settings do not apply: Phoenix builds run without a proxy server',
      "phases.install.runtime-versions: not installed by Phoenix (nodejs 18): the host's toolchain is used",
    ]);
  });
});

describe('parseSecretReference', () => {
  it.each([
    ['db', { secretId: 'db' }],
    ['db:password', { secretId: 'db', jsonKey: 'password' }],
    [
      'db:password:AWSPREVIOUS',
      { secretId: 'db', jsonKey: 'password', versionStage: 'AWSPREVIOUS' },
    ],
    ['db::::', undefined],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC:user',
      { secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC', jsonKey: 'user' },
    ],
  ])('%s', (text, expected) => {
    const reference = parseSecretReference(text);

    if (expected === undefined) expect(reference).toBeUndefined();
    else expect(reference).toMatchObject(expected);
  });
});

const CORPUS = join(import.meta.dirname, '../../../shared/corpus/buildspec');

describe('the real-world corpus', () => {
  const files = readdirSync(CORPUS).sort();

  it('holds the 36 files the issue names', () => {
    expect(files).toHaveLength(36);
  });

  it.each(files)('%s parses, or is refused precisely', (file) => {
    const text = readFileSync(join(CORPUS, file), 'utf8');

    const outcome = attempt(() => parseBuildspec(text, file));

    if (outcome.ok) {
      expect(['0.1', '0.2']).toContain(outcome.value.version);
      expect(outcome.value.phases.length + (outcome.value.batch ? 1 : 0)).toBeGreaterThan(0);
    } else {
      expect(outcome.error).toBeInstanceOf(ValidationError);
      expect(outcome.error.message).toMatch(new RegExp(`^${escapeRegExp(file)}:\\d+:\\d+: `));
    }
  });
});

function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: Error } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('hostile YAML', () => {
  it('refuses an alias bomb as invalid YAML instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i <= 11; i++)
      levels.push(
        `l${i}: &l${i} [*${i === 1 ? 'a' : `l${i - 1}`},*${i === 1 ? 'a' : `l${i - 1}`},*${i === 1 ? 'a' : `l${i - 1}`}]`,
      );

    const issues = issuesOf(`version: 0.2\n${levels.join('\n')}\n`);

    expect(issues).toEqual([
      expect.stringMatching(/^buildspec.yml:1:1: invalid YAML: Excessive alias count/),
    ]);
  });
});
