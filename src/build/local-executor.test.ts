import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { commitFiles, gitRepo, tempDir } from '../../test/support/git-fixture.js';
import { silentLogger } from '../shared/logger.js';
import { ArtifactStore } from './artifact-store.js';
import type { LogLine } from './build-log.js';
import type { BuildSummary } from './build-result.js';
import type { BuildRequest } from './executor.js';
import { LocalExecutor } from './local-executor.js';
import { findMarkedProcesses } from './process-reaper.js';
import { staticSecrets, unconfiguredSecrets, type SecretResolver } from './secrets.js';

describe('LocalExecutor', () => {
  let dir: ReturnType<typeof tempDir>;
  let repo: string;
  let home: string;

  beforeEach(() => {
    dir = tempDir();
    repo = join(dir.path, 'repo');
    home = join(dir.path, 'home');
  });

  afterEach(() => dir.remove());

  /** Commits `files` (unless null) and builds; `signal` stops the build. */
  async function build(
    files: Record<string, string> | null,
    request: Partial<BuildRequest> = {},
    secrets: SecretResolver = unconfiguredSecrets,
    signal?: AbortSignal,
  ): Promise<{ summary: BuildSummary; lines: LogLine[] }> {
    if (files !== null && !existsSync(repo)) gitRepo(repo, files);
    else if (files !== null) commitFiles(repo, files);
    const lines: LogLine[] = [];
    const executor = new LocalExecutor({
      home,
      secrets,
      logger: silentLogger(),
      hostEnv: { PATH: process.env['PATH'], PHOENIX_ADMIN_TOKEN: 'host-secret-token' },
    });
    const onLog = request.onLog;
    const summary = await executor.run(
      {
        sourceDirectory: repo,
        ...request,
        onLog: (line) => {
          lines.push(line);
          onLog?.(line);
        },
      },
      signal,
    );
    return { summary, lines };
  }

  function output(lines: LogLine[]): string[] {
    return lines.filter((line) => line.stream !== 'system').map((line) => line.text);
  }

  function phases(summary: BuildSummary): string[] {
    return summary.phases.map((phase) => `${phase.phase}:${phase.status}`);
  }

  it('runs the phases in order in one shell session and reports exported variables and CODEBUILD_ variables', async () => {
    const { summary, lines } = await build({
      'buildspec.yml': [
        'version: 0.2',
        'env:',
        '  exported-variables: [VERSION, MISSING]',
        'phases:',
        '  install:',
        '    commands:',
        '      - export VERSION=1.2.3',
        '      - mkdir -p sub && cd sub',
        '  build:',
        '    commands:',
        '      - echo "in $(basename $PWD) v$VERSION build $CODEBUILD_BUILD_NUMBER $CODEBUILD_RESOLVED_SOURCE_VERSION"',
        '      - test "$CODEBUILD_SRC_DIR" = "$(dirname $PWD)" && test "$PHOENIX_COMMIT" = "$CODEBUILD_RESOLVED_SOURCE_VERSION"',
        '      - echo "source version $CODEBUILD_SOURCE_VERSION initiator ${CODEBUILD_INITIATOR%%/*}"',
      ].join('\n'),
    });

    expect(summary.status, summary.reason).toBe('SUCCEEDED');
    expect(phases(summary)).toEqual([
      'DOWNLOAD_SOURCE:SUCCEEDED',
      'INSTALL:SUCCEEDED',
      'BUILD:SUCCEEDED',
      'FINALIZING:SUCCEEDED',
    ]);
    expect(output(lines)).toEqual([
      `in sub v1.2.3 build 1 ${summary.resolvedSourceVersion}`,
      'source version main initiator phoenix',
    ]);
    expect(summary.exportedVariables).toEqual({ VERSION: '1.2.3' });
    expect(summary.buildId).toMatch(/^repo:[0-9a-f-]{36}$/);
  });

  it('skips the rest of a failed phase, runs finally, then post_build with CODEBUILD_BUILD_SUCCEEDING=0', async () => {
    const { summary, lines } = await build({
      'buildspec.yml': [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo one',
        '      - exit 4',
        '      - echo never',
        '    finally:',
        '      - echo cleanup',
        '  post_build:',
        '    commands:',
        '      - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"',
      ].join('\n'),
    });

    expect(summary.status).toBe('FAILED');
    expect(output(lines)).toEqual(['one', 'cleanup', 'succeeding=0']);
    expect(phases(summary)).toContain('BUILD:FAILED');
    expect(phases(summary)).toContain('POST_BUILD:SUCCEEDED');
    expect(summary.reason).toBe(
      'COMMAND_EXECUTION_ERROR: Error while executing command: exit 4. Reason: exit status 4 (buildspec.yml:6, phases.build.commands[1])',
    );
  });

  it.each([
    [
      'install',
      undefined,
      ['INSTALL:FAILED', 'PRE_BUILD:SKIPPED', 'BUILD:SKIPPED', 'POST_BUILD:SKIPPED'],
    ],
    [
      'pre_build',
      undefined,
      ['INSTALL:SUCCEEDED', 'PRE_BUILD:FAILED', 'BUILD:SKIPPED', 'POST_BUILD:SKIPPED'],
    ],
    [
      'install',
      'CONTINUE',
      ['INSTALL:FAILED', 'PRE_BUILD:SUCCEEDED', 'BUILD:SUCCEEDED', 'POST_BUILD:SUCCEEDED'],
    ],
    [
      'build',
      'ABORT',
      ['INSTALL:SUCCEEDED', 'PRE_BUILD:SUCCEEDED', 'BUILD:FAILED', 'POST_BUILD:SKIPPED'],
    ],
    [
      'build',
      undefined,
      ['INSTALL:SUCCEEDED', 'PRE_BUILD:SUCCEEDED', 'BUILD:FAILED', 'POST_BUILD:SUCCEEDED'],
    ],
  ])('a failure in %s with on-failure %s gives %j', async (failing, onFailure, expected) => {
    const phase = (name: string): string[] => [
      `  ${name}:`,
      ...(name === failing && onFailure ? [`    on-failure: ${onFailure}`] : []),
      '    commands:',
      `      - ${name === failing ? 'false' : 'true'}`,
    ];
    const { summary } = await build({
      'buildspec.yml': [
        'version: 0.2',
        'phases:',
        ...['install', 'pre_build', 'build', 'post_build'].flatMap(phase),
      ].join('\n'),
      'out.txt': 'x',
    });

    expect(summary.status).toBe('FAILED');
    expect(phases(summary).slice(1, 5), summary.reason).toEqual(expected);
  });

  it('retries a phase whose failure matches on-failure RETRY-n-regex, and not one that does not match', async () => {
    const buildspec = (regex: string): string =>
      [
        'version: 0.2',
        'phases:',
        '  build:',
        `    on-failure: RETRY-2-${regex}`,
        '    commands:',
        '      - n=$(( $(cat ../count 2>/dev/null || echo 0) + 1 )); echo $n > ../count',
        '      - \'echo "attempt $(cat ../count): flaky network"; test "$(cat ../count)" -ge 3\'',
      ].join('\n');

    const matching = await build({ 'buildspec.yml': buildspec('flaky') });
    const other = await build({ 'buildspec.yml': buildspec('disk full') });

    expect(matching.summary.status).toBe('SUCCEEDED');
    expect(matching.summary.phases.find((p) => p.phase === 'BUILD')?.attempts).toBe(3);
    expect(other.summary.status).toBe('FAILED');
    expect(other.summary.phases.find((p) => p.phase === 'BUILD')?.attempts).toBe(1);
  });

  it('stores artifacts content-addressed, with base-directory and secondary artifacts, even after a failed build phase', async () => {
    const { summary } = await build({
      'buildspec.yml': [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - mkdir -p dist/js && echo app > dist/js/app.js && echo readme > dist/README',
        '      - export NAME=web',
        '      - false',
        'artifacts:',
        '  base-directory: dist',
        '  files: ["**/*"]',
        '  name: $NAME-$CODEBUILD_BUILD_NUMBER',
        '  secondary-artifacts:',
        '    docs:',
        '      files: [dist/README]',
        '      discard-paths: yes',
      ].join('\n'),
    });

    expect(summary.status).toBe('FAILED');
    const [primary, docs] = summary.artifacts;
    expect(primary?.name).toBe('web-1');
    expect(primary?.files.map((f) => f.path)).toEqual(['README', 'js/app.js']);
    expect(docs?.files.map((f) => f.path)).toEqual(['README']);
    const store = new ArtifactStore(join(home, 'artifacts'));
    const manifest = await store.getManifest(primary?.digest ?? '');
    expect(manifest.name).toBe('web-1');
    const out = join(dir.path, 'extracted');
    await store.extract(primary?.digest ?? '', out);
    expect(readFileSync(join(out, 'js/app.js'), 'utf8')).toBe('app\n');
  });

  it('refuses an artifact path that leaves the source folder before anything runs', async () => {
    const { summary, lines } = await build({
      'buildspec.yml': [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands: [echo ran]',
        'artifacts:',
        '  files: ["../../**/*"]',
      ].join('\n'),
    });

    expect(summary.status).toBe('FAILED');
    expect(summary.reason).toMatch(
      /^UNSUPPORTED_BUILDSPEC: buildspec.yml:6:10: artifacts.files: \.\.\/\.\.\/\*\*\/\*: the path leaves/,
    );
    expect(output(lines)).toEqual([]);
  });

  it('fails with the YAML error, naming file, line and key, when the committed buildspec is malformed', async () => {
    const { summary } = await build({
      'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    comands: [make]\n',
    });

    expect(summary.status).toBe('FAILED');
    expect(summary.reason).toBe(
      'YAML_FILE_ERROR: buildspec.yml:4:5: phases.build.comands: unknown key "comands" (did you mean "commands"?)',
    );
  });

  it('builds the committed state, not uncommitted changes, and says so', async () => {
    gitRepo(repo, {
      'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands: [cat file.txt]\n',
      'file.txt': 'committed',
    });
    writeFileSync(join(repo, 'file.txt'), 'uncommitted');

    const { summary, lines } = await build(null);

    expect(output(lines)).toEqual(['committed']);
    expect(summary.warnings).toContain(
      'the working tree has uncommitted changes; the build uses the committed version',
    );
  });

  it('keeps the host environment out of builds and lets overrides win over buildspec variables', async () => {
    const { lines } = await build(
      {
        'buildspec.yml': [
          'version: 0.2',
          'env:',
          '  variables: { A: from-buildspec, B: from-buildspec }',
          'phases:',
          '  build:',
          '    commands: [\'echo "A=$A B=$B token=${PHOENIX_ADMIN_TOKEN-none} home=$(basename $HOME)"\']',
        ].join('\n'),
      },
      { overrides: { B: 'from-override' } },
    );

    expect(output(lines)).toEqual(['A=from-buildspec B=from-override token=none home=home']);
  });

  it('masks secret values in every log line and refuses unresolvable secret references by key', async () => {
    const files = {
      'buildspec.yml': [
        'version: 0.2',
        'env:',
        '  secrets-manager:',
        '    DB_PASSWORD: prod/db:password',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "password is $DB_PASSWORD"; printf "%s" "$DB_PASSWORD" | cut -c1-6; printf "%s\\n" "$DB_PASSWORD" >&2',
        // The secret reaches the pipe in two writes, 50 ms apart.
        '      - \'printf "split: %s" "${DB_PASSWORD:0:5}"; sleep 0.05; printf "%s end\\n" "${DB_PASSWORD:5}"\'',
      ].join('\n'),
    };
    const secrets = staticSecrets({ 'prod/db': '{"password":"s3cr3t-p4ss"}' });

    const resolved = await build(files, {}, secrets);
    const refused = await build(files);

    expect(output(resolved.lines)).toEqual(['password is ***', 's3cr3t', '***', 'split: *** end']);
    expect(readFileSync(resolved.summary.logFile, 'utf8')).not.toContain('s3cr3t-p4ss');
    expect(refused.summary.reason).toMatch(
      /^UNSUPPORTED_BUILDSPEC: buildspec.yml:4:18: env.secrets-manager.DB_PASSWORD: no secret store/,
    );
  });

  it('times out, kills every process the build started (even one that left the process group) and says TIMED_OUT', async () => {
    const pidFile = join(dir.path, 'escaped.pid');
    const { summary } = await build(
      {
        'buildspec.yml': [
          'version: 0.2',
          'phases:',
          '  build:',
          '    commands:',
          `      - setsid sleep 300 & echo $! > ${pidFile}; sleep 300`,
          '  post_build:',
          '    commands: [echo never]',
        ].join('\n'),
      },
      { timeoutMs: 1000 },
    );

    expect(summary.status).toBe('TIMED_OUT');
    expect(phases(summary)).toContain('POST_BUILD:SKIPPED');
    expect(await findMarkedProcesses(summary.buildId)).toEqual([]);
    const escaped = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(escaped)).toBe(false);
  });

  it('stops when its signal is aborted and reports STOPPED', async () => {
    const controller = new AbortController();
    const { summary } = await build(
      {
        'buildspec.yml': [
          'version: 0.2',
          'phases:',
          '  build:',
          '    commands:',
          '      - echo started; sleep 300',
        ].join('\n'),
      },
      { onLog: (line) => line.text === 'started' && controller.abort() },
      unconfiguredSecrets,
      controller.signal,
    );

    expect(summary.status).toBe('STOPPED');
    expect(await findMarkedProcesses(summary.buildId)).toEqual([]);
  });

  it('restores the cache before install and saves it after a successful build', async () => {
    const buildspec = [
      'version: 0.2',
      'phases:',
      '  install:',
      '    commands:',
      '      - \'if [ -f deps/installed ]; then echo "cached: $(cat deps/installed)"; else mkdir -p deps && echo fresh > deps/installed && echo downloaded; fi\'',
      'cache:',
      '  key: deps-$(codebuild-hash-files lock.txt)',
      '  fallback-keys: [deps-]',
      '  paths: ["deps/**/*"]',
    ].join('\n');

    const first = await build({ 'buildspec.yml': buildspec, 'lock.txt': 'v1' });
    const second = await build({ 'buildspec.yml': buildspec, 'lock.txt': 'v1' });
    const changedLock = await build({ 'buildspec.yml': buildspec, 'lock.txt': 'v2' });

    expect(output(first.lines)).toEqual(['downloaded']);
    expect(first.summary.cache).toMatchObject({ restore: 'miss', saved: true });
    expect(output(second.lines)).toEqual(['cached: fresh']);
    expect(second.summary.cache).toMatchObject({ restore: 'hit', key: first.summary.cache?.key });
    expect(first.summary.cache?.key).toMatch(/^deps-[0-9a-f]{64}$/);
    expect(changedLock.summary.cache?.restore).toBe('fallback-hit');
    expect(changedLock.summary.cache?.key).not.toBe(first.summary.cache?.key);
  });

  it('parses JUnit reports even when the build fails', async () => {
    const junit =
      '<testsuite name="api" tests="3"><testcase name="lists"/><testcase name="creates"><failure message="expected 201"/></testcase><testcase name="later"><skipped/></testcase></testsuite>';
    const { summary } = await build({
      'buildspec.yml': [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        `      - mkdir -p reports && echo '${junit}' > reports/junit.xml`,
        '      - exit 1',
        'reports:',
        '  unit:',
        '    files: ["**/*.xml"]',
        '    base-directory: reports',
      ].join('\n'),
    });

    expect(summary.status).toBe('FAILED');
    expect(summary.reports[0]?.summary).toMatchObject({
      total: 3,
      passed: 1,
      failed: 1,
      skipped: 1,
    });
    expect(summary.reports[0]?.failures.map((f) => f.name)).toEqual(['creates']);
  });

  it('runs version 0.1 buildspecs with a fresh shell per command', async () => {
    const { lines } = await build({
      'buildspec.yml':
        'version: 0.1\nphases:\n  build:\n    commands:\n      - export A=1\n      - echo "A=${A-unset}"\n',
    });

    expect(output(lines)).toEqual(['A=unset']);
  });

  it('sandboxes commands with bubblewrap: the build folder is writable, the rest of the machine is not', async () => {
    // Not under /tmp: the sandbox gives builds a private /tmp, where a write would succeed unseen.
    const outside = `/var/tmp/phoenix-sandbox-probe-${process.pid}-${Date.now()}`;
    // PHOENIX_HOME outside /tmp too, where only the sandbox's hiding can keep it out of sight.
    home = mkdtempSync('/var/tmp/phoenix-home-');
    onTestFinished(() => rmSync(home, { recursive: true, force: true }));
    writeFileSync(join(home, 'phoenix.db'), 'tokens');
    const { summary, lines } = await build(
      {
        'buildspec.yml': [
          'version: 0.2',
          'phases:',
          '  build:',
          '    commands:',
          '      - echo ok > inside.txt && cat inside.txt',
          `      - if echo x > ${outside}; then echo escaped; else echo refused; fi`,
          `      - if cat ${join(home, 'phoenix.db')} 2>/dev/null; then echo; else echo hidden; fi`,
        ].join('\n'),
      },
      { sandbox: true },
    );

    expect(summary.status, summary.reason).toBe('SUCCEEDED');
    expect(output(lines).filter((line) => !line.includes('Read-only'))).toEqual([
      'ok',
      'refused',
      'hidden',
    ]);
    expect(existsSync(outside)).toBe(false);
  });

  it('builds a sub-folder of a repository with the sub-folder as CODEBUILD_SRC_DIR', async () => {
    gitRepo(repo, {
      'services/api/buildspec.yml':
        'version: 0.2\nphases:\n  build:\n    commands: [\'echo "$(basename $CODEBUILD_SRC_DIR) $(cat name.txt)"\']\n',
      'services/api/name.txt': 'api',
    });

    const { summary, lines } = await build({}, { sourceDirectory: join(repo, 'services/api') });

    expect(summary.status, summary.reason).toBe('SUCCEEDED');
    expect(output(lines)).toEqual(['api api']);
  });

  it('builds a commit of a bare repository and reports its id before any command runs', async () => {
    gitRepo(repo, {
      'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands: [echo from-bare]\n',
    });
    const bare = join(dir.path, 'hosted.git');
    execFileSync('git', ['clone', '-q', '--bare', repo, bare]);
    const started: string[] = [];
    const seen: string[] = [];

    const { summary, lines } = await build(null, {
      sourceDirectory: bare,
      revision: 'main',
      onLog: (line) => seen.push(line.text),
      onStart: (info) => {
        started.push(
          `${info.buildId} after ${seen.filter((text) => text === 'from-bare').length} lines`,
        );
      },
    });

    expect(summary.status, summary.reason).toBe('SUCCEEDED');
    expect(started).toEqual([`${summary.buildId} after 0 lines`]);
    expect(output(lines)).toEqual(['from-bare']);
    expect(summary.project).toBe('hosted.git');
  });

  it('numbers builds per project and keeps only the log and summary afterwards', async () => {
    const files = { 'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n' };

    const first = await build(files);
    const second = await build(files);

    expect([first.summary.buildNumber, second.summary.buildNumber]).toEqual([1, 2]);
    expect(existsSync(join(home, 'builds/repo/2/src'))).toBe(false);
    expect(
      JSON.parse(readFileSync(join(home, 'builds/repo/2/summary.json'), 'utf8')),
    ).toMatchObject({ status: 'SUCCEEDED', buildNumber: 2 });
  });
});

/** A killed process whose parent is gone stays a zombie until init reaps it: that is dead. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
