import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMarkedProcesses } from '../../src/build/process-reaper.js';
import { gitRepo, tempDir } from '../support/git-fixture.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `phoenix` as a user would; `onStdout` may signal it mid-run. */
function phoenix(
  args: readonly string[],
  env: Record<string, string>,
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('phoenix build (the compiled CLI)', () => {
  let dir: ReturnType<typeof tempDir>;
  let repo: string;
  let env: Record<string, string>;

  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });

  beforeEach(() => {
    dir = tempDir();
    repo = join(dir.path, 'app');
    env = { PHOENIX_HOME: join(dir.path, 'home') };
  });

  afterEach(() => dir.remove());

  it('exits 0 and prints one JSON summary on stdout with --json, logs on stderr', async () => {
    gitRepo(repo, {
      'buildspec.yml':
        'version: 0.2\nenv:\n  exported-variables: [OUT]\nphases:\n  build:\n    commands:\n      - export OUT=done; echo building\n',
    });

    const result = await phoenix(['build', '--source', repo, '--json'], env);

    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      status: 'SUCCEEDED',
      project: 'app',
      buildNumber: 1,
      exportedVariables: { OUT: 'done' },
    });
    expect(result.stderr).toMatch(/\d\d:\d\d:\d\d\.\d{3} building/);
  });

  it('exits 1 when the build fails, and the human summary says why', async () => {
    gitRepo(repo, {
      'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands:\n      - exit 3\n',
    });

    const result = await phoenix(['build', '--source', repo], env);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAILED');
    expect(result.stdout).toContain('Error while executing command: exit 3. Reason: exit status 3');
  });

  it('exits 2 with a message naming the option for bad input, before any build', async () => {
    gitRepo(repo, { 'buildspec.yml': 'version: 0.2\n' });

    const badEnv = await phoenix(['build', '--source', repo, '--env', 'CODEBUILD_BUILD_ID=x'], env);
    const badTimeout = await phoenix(['build', '--source', repo, '--timeout', 'soon'], env);
    const badRef = await phoenix(
      ['build', '--source', repo, '--source-version', '--upload-pack=evil'],
      env,
    );
    const notGit = await phoenix(['build', '--source', dir.path, '--source-version', 'main'], env);

    expect(badEnv).toMatchObject({ code: 2 });
    expect(badEnv.stderr).toContain(
      '--env:1:1: CODEBUILD_BUILD_ID: this name is reserved for the build engine',
    );
    expect(badTimeout.stderr).toContain('"soon" is not a duration');
    expect(badRef.code).toBe(2);
    expect(badRef.stderr).toContain('not a valid git revision');
    expect(notGit.code).toBe(2);
    expect(existsSync(join(dir.path, 'home', 'builds'))).toBe(false);
  });

  it('stops on SIGINT like Ctrl-C: exit 130, STOPPED, and no process of the build left', async () => {
    gitRepo(repo, {
      'buildspec.yml':
        'version: 0.2\nphases:\n  build:\n    commands:\n      - echo started; sleep 300 & sleep 300\n',
    });
    let signalled = false;

    const stopped = await phoenix(['build', '--source', repo], env, (stdout, child) => {
      if (!signalled && stdout.includes('started')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });

    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('STOPPED');
    const buildId = /Build #\d+ (\S+):/.exec(stopped.stdout)?.[1];
    expect(buildId).toBeDefined();
    expect(await findMarkedProcesses(buildId ?? '')).toEqual([]);
  });

  it('runs a batch build-graph in dependency order with --batch', async () => {
    gitRepo(repo, {
      'buildspec.yml': [
        'version: 0.2',
        'batch:',
        '  build-graph:',
        '    - identifier: unit',
        '    - identifier: package',
        '      depend-on: [unit]',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "$CODEBUILD_BATCH_BUILD_IDENTIFIER" >> ../../../order.txt',
      ].join('\n'),
    });

    const result = await phoenix(['build', '--source', repo, '--batch', '--json'], env);

    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      status: string;
      tasks: { identifier: string; status: string }[];
    };
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.tasks.map((t) => `${t.identifier}:${t.status}`)).toEqual([
      'unit:SUCCEEDED',
      'package:SUCCEEDED',
    ]);
    expect(readFileSync(join(dir.path, 'home', 'builds', 'order.txt'), 'utf8')).toBe(
      'unit\npackage\n',
    );
  });

  it('validates a buildspec without running it', async () => {
    gitRepo(repo, { 'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    comands: [make]\n' });

    const result = await phoenix(['validate', '--buildspec', join(repo, 'buildspec.yml')], env);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'phases.build.comands: unknown key "comands" (did you mean "commands"?)',
    );
  });
});
