import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadBuildspec, type Buildspec } from '../config/buildspec.js';
import {
  formatIssue,
  PhoenixError,
  ValidationError,
  type ValidationIssue,
} from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ArtifactStore } from './artifact-store.js';
import { uploadArtifacts } from './artifacts.js';
import { allocateBuildDirectory, projectName } from './build-directory.js';
import { buildEnvironment, type BuildIdentity } from './build-env.js';
import { BuildLog } from './build-log.js';
import type {
  ArtifactResult,
  BuildStatus,
  BuildSummary,
  CacheResult,
  PhaseResult,
  ReportResult,
} from './build-result.js';
import { BuildCache } from './build-cache.js';
import { CachePathError, cacheDirectories, type CacheLocation } from './cache-paths.js';
import {
  DEFAULT_BUILD_TIMEOUT_MS,
  DEFAULT_BUILDSPEC,
  type BuildRequest,
  type Executor,
} from './executor.js';
import { runPhases, type PhasesOutcome } from './phase-runner.js';
import { preflight, type RunAs } from './preflight.js';
import { reapBuildProcesses } from './process-reaper.js';
import { collectReports } from './reports/collect-reports.js';
import { bubblewrapArgs } from './sandbox.js';
import { SecretMasker } from './secret-masker.js';
import type { SecretResolver } from './secrets.js';
import { ShellSession } from './shell-session.js';
import { checkout, inspectSource, removeWorkspace, type SourceInfo } from './workspace.js';

const run = promisify(execFile);

/** Folder holding `codebuild-hash-files`; put on every build's PATH, as CodeBuild does. */
export const LIBEXEC_DIRECTORY = fileURLToPath(new URL('../../libexec', import.meta.url));

export interface LocalExecutorOptions {
  /** PHOENIX_HOME: builds, artifacts and caches live below it. */
  home: string;
  secrets: SecretResolver;
  logger: Logger;
  now?: () => number;
  /** The environment builds may take allowlisted variables from (PATH, locale). */
  hostEnv?: NodeJS.ProcessEnv;
}

interface BuildPaths {
  root: string;
  source: string;
  home: string;
  tmp: string;
  state: string;
  log: string;
  reports: string;
  summary: string;
}

/** Runs builds on this machine: a fresh checkout per build, one shell session, nothing left behind. */
export class LocalExecutor implements Executor {
  private readonly now: () => number;
  private readonly store: ArtifactStore;

  private readonly stateRoot: string | undefined;

  constructor(private readonly options: LocalExecutorOptions) {
    this.now = options.now ?? Date.now;
    this.store = new ArtifactStore(join(options.home, 'artifacts'));
    this.stateRoot = memoryBackedFolder();
  }

  async run(request: BuildRequest, signal?: AbortSignal): Promise<BuildSummary> {
    const source = await inspectSource(request.sourceDirectory, request.revision);
    const project = projectName(request.project ?? basename(source.root));
    const directory = await allocateBuildDirectory(join(this.options.home, 'builds'), project);
    const paths = buildPaths(directory.path, this.stateRoot, `${project}-${directory.number}`);
    await Promise.all(
      [paths.source, paths.home, paths.tmp, paths.state].map((path) =>
        mkdir(path, { recursive: true }),
      ),
    );
    const build = new LocalBuild({
      executor: this.options,
      store: this.store,
      now: this.now,
      request,
      source,
      project,
      number: directory.number,
      paths,
      signal,
    });
    return build.run();
  }
}

/**
 * The shell session rewrites a small state file after every command. On a disk mounted with
 * `discard`, truncating a file costs about a millisecond; on tmpfs it costs microseconds, so
 * the state lives in /dev/shm where the machine has one.
 */
function memoryBackedFolder(): string | undefined {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

function buildPaths(root: string, stateRoot: string | undefined, name: string): BuildPaths {
  return {
    root,
    source: join(root, 'src'),
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    state:
      stateRoot === undefined
        ? join(root, 'state')
        : join(stateRoot, `phoenix-${name}-${randomBytes(6).toString('hex')}`),
    log: join(root, 'build.log'),
    reports: join(root, 'reports'),
    summary: join(root, 'summary.json'),
  };
}

interface LocalBuildOptions {
  executor: LocalExecutorOptions;
  store: ArtifactStore;
  now: () => number;
  request: BuildRequest;
  source: SourceInfo;
  project: string;
  number: number;
  paths: BuildPaths;
  signal: AbortSignal | undefined;
}

/** One build from checkout to summary. */
class LocalBuild {
  private readonly started: number;
  private readonly buildId: string;
  private readonly controller = new AbortController();
  private readonly phases: PhaseResult[] = [];
  private readonly warnings: string[] = [];
  private log: BuildLog;
  private session: ShellSession | undefined;
  /** CODEBUILD_SRC_DIR: the checkout, or the requested folder inside it. */
  private readonly srcDir: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LocalBuildOptions) {
    this.started = o.now();
    this.buildId = `${o.project}:${crypto.randomUUID()}`;
    this.log = new BuildLog(o.paths.log, new SecretMasker([]), o.now);
    this.srcDir = join(o.paths.source, o.source.subdirectory);
  }

  async run(): Promise<BuildSummary> {
    const { request } = this.o;
    this.watchStop(request);
    let status: BuildStatus = 'FAILED';
    let reason: string | undefined;
    let exportedVariables: Record<string, string> = {};
    let artifacts: ArtifactResult[] = [];
    let reports: ReportResult[] = [];
    let cache: CacheResult | undefined;
    try {
      const spec = await this.prepare();
      if (spec === undefined) {
        reason = this.failureReason;
      } else {
        const outcome = await this.execute(spec);
        exportedVariables = outcome.exportedVariables;
        artifacts = outcome.artifacts;
        reports = outcome.reports;
        cache = outcome.cache;
        status = outcome.status;
        reason = outcome.reason;
      }
    } catch (error) {
      status = 'FAULT';
      reason = `PLATFORM_ERROR: ${error instanceof Error ? error.message : String(error)}`;
      this.o.executor.logger.error(
        { buildId: this.buildId, err: error },
        'build failed inside Phoenix',
      );
      this.log.system(reason);
    } finally {
      await this.finish();
    }
    const summary: BuildSummary = {
      buildId: this.buildId,
      buildNumber: this.o.number,
      project: this.o.project,
      status,
      reason,
      sourceVersion: this.o.source.requestedVersion,
      resolvedSourceVersion: this.o.source.commit,
      startedAt: new Date(this.started).toISOString(),
      durationMs: this.o.now() - this.started,
      phases: this.phases,
      exportedVariables,
      artifacts,
      cache,
      reports,
      warnings: this.warnings,
      logFile: this.o.paths.log,
    };
    this.log.system(`Build ${status}${reason === undefined ? '' : `: ${reason}`}`);
    await this.log.close();
    await writeFile(this.o.paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  }

  private failureReason: string | undefined;

  /** DOWNLOAD_SOURCE: checkout, buildspec, preflight, secrets. Undefined when the build cannot start. */
  private async prepare(): Promise<PreparedBuild | undefined> {
    const { request, source, paths } = this.o;
    if (request.onLog !== undefined) this.log.subscribe(request.onLog);
    const phaseStart = this.o.now();
    this.log.system(
      `Build ${this.buildId} (#${this.o.number}) of ${source.root}${source.commit ? ` at ${source.commit.slice(0, 12)}` : ''}`,
    );
    if (source.dirty)
      this.warn('the working tree has uncommitted changes; the build uses the committed version');
    if (!source.isGit)
      this.warn('the source is not a git repository; the build uses a copy of the folder');
    await checkout(source, paths.source);
    const buildspecPath = request.buildspec ?? DEFAULT_BUILDSPEC;
    const displayName = isAbsolute(buildspecPath)
      ? buildspecPath
      : join(source.subdirectory, buildspecPath);
    let spec: Buildspec;
    try {
      spec = await loadBuildspec(
        isAbsolute(buildspecPath) ? buildspecPath : join(this.srcDir, buildspecPath),
        displayName,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return this.refuse(phaseStart, 'YAML_FILE_ERROR', error.issues);
    }
    for (const warning of spec.warnings) this.warn(formatIssue(warning));
    const checked = await preflight(spec, { lookupUser, currentUid: process.getuid?.() ?? 0 });
    const secrets = await this.resolveSecrets(spec, checked.issues);
    const cacheIssues = this.checkCache(spec);
    const issues = [...checked.issues, ...cacheIssues];
    if (issues.length > 0) return this.refuse(phaseStart, 'UNSUPPORTED_BUILDSPEC', issues);
    this.phases.push({
      phase: 'DOWNLOAD_SOURCE',
      status: 'SUCCEEDED',
      startedAt: iso(phaseStart),
      durationMs: this.o.now() - phaseStart,
      attempts: 1,
    });
    return { spec, secrets, runAs: checked.runAs, posixShell: checked.posixShell };
  }

  private refuse(phaseStart: number, code: string, issues: readonly ValidationIssue[]): undefined {
    for (const issue of issues) this.log.system(`${code}: ${formatIssue(issue)}`);
    this.failureReason = `${code}: ${issues.map(formatIssue).join('; ')}`;
    this.phases.push({
      phase: 'DOWNLOAD_SOURCE',
      status: 'FAILED',
      startedAt: iso(phaseStart),
      durationMs: this.o.now() - phaseStart,
      attempts: 1,
      message: this.failureReason,
    });
    return undefined;
  }

  private async resolveSecrets(
    spec: Buildspec,
    issues: ValidationIssue[],
  ): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    const wanted = [
      ...Object.entries(spec.env.parameterStore).map(([name, ref]) => ({
        name,
        ref,
        kind: 'parameter-store' as const,
        value: ref.value as Parameters<SecretResolver['resolve']>[1],
      })),
      ...Object.entries(spec.env.secretsManager).map(([name, ref]) => ({
        name,
        ref,
        kind: 'secrets-manager' as const,
        value: ref.value as Parameters<SecretResolver['resolve']>[1],
      })),
    ];
    for (const { name, ref, kind, value } of wanted) {
      const resolved = await this.o.executor.secrets.resolve(kind, value);
      if ('missing' in resolved)
        issues.push({ location: ref.location, key: ref.key, message: resolved.missing });
      else values[name] = resolved.value;
    }
    return values;
  }

  private checkCache(spec: Buildspec): ValidationIssue[] {
    if (spec.cache === undefined) return [];
    try {
      cacheDirectories(spec.cache, this.cacheLocation());
      return [];
    } catch (error) {
      if (!(error instanceof CachePathError)) throw error;
      return [{ location: spec.cache.location, key: 'cache.paths', message: error.message }];
    }
  }

  private cacheLocation(): CacheLocation {
    return { root: this.srcDir, home: this.o.paths.home };
  }

  private async execute(prepared: PreparedBuild): Promise<ExecuteOutcome> {
    const { spec } = prepared;
    this.log = this.maskedLog(prepared.secrets);
    if (prepared.runAs !== undefined) await chownTree(this.o.paths, prepared.runAs);
    const identity = this.identity();
    const env = buildEnvironment({
      host: this.o.executor.hostEnv ?? process.env,
      buildspecVariables: spec.env.variables,
      secrets: prepared.secrets,
      overrides: this.o.request.overrides ?? {},
      identity,
    });
    env['PATH'] = `${env['PATH'] ?? ''}${delimiter}${LIBEXEC_DIRECTORY}`;
    this.session = new ShellSession({
      cwd: this.srcDir,
      env,
      stateDirectory: this.o.paths.state,
      persistState: spec.version === '0.2',
      posix: prepared.posixShell,
      wrapper: this.o.request.sandbox
        ? bubblewrapArgs([this.o.paths.root, this.o.paths.state], this.srcDir)
        : undefined,
      uid: prepared.runAs?.uid,
      gid: prepared.runAs?.gid,
      onOutput: (stream, line) => this.log.write(stream, line),
    });
    const cache =
      spec.cache === undefined
        ? undefined
        : new BuildCache({
            directory: join(this.o.executor.home, 'cache', this.o.project),
            now: this.o.now,
          });
    let cacheResult: CacheResult | undefined;
    let cacheKey: string | undefined;
    if (cache !== undefined && spec.cache !== undefined) {
      cacheKey =
        spec.cache.key === undefined ? undefined : await this.session.expand(spec.cache.key);
      const fallbacks = await Promise.all(spec.cache.fallbackKeys.map((key) => this.expand(key)));
      cacheResult = await cache.restore(spec.cache, cacheKey, fallbacks, this.cacheLocation());
      this.log.system(
        `Cache ${cacheResult.restore}${cacheResult.restoredKey ? ` (${cacheResult.restoredKey})` : ''}`,
      );
    }
    const outcome = await runPhases(spec, {
      shell: this.session,
      log: (text) => this.log.system(text),
      now: this.o.now,
      signal: this.controller.signal,
    });
    this.phases.push(...outcome.phases);
    const exportedVariables =
      outcome.stopReason === undefined ? await this.session.read(spec.env.exportedVariables) : {};
    const uploaded = await this.upload(spec, outcome);
    const reports = outcome.stopReason === undefined ? await this.reports(spec) : [];
    const succeeded = outcome.succeeded && uploaded.ok;
    if (cache !== undefined && spec.cache !== undefined && cacheResult !== undefined) {
      if (succeeded) {
        cacheResult = await cache.save(spec.cache, cacheKey, this.cacheLocation(), cacheResult);
        this.log.system(
          cacheResult.saved
            ? `Cache saved${cacheResult.savedKey ? ` as ${cacheResult.savedKey}` : ''}`
            : `Cache not saved: ${cacheResult.note ?? 'nothing to save'}`,
        );
      } else {
        cacheResult = { ...cacheResult, saved: false, note: 'the build did not succeed' };
      }
    }
    return {
      status: statusOf(outcome, uploaded.ok),
      reason:
        outcome.stopReason === 'timeout'
          ? 'BUILD_TIMED_OUT: Build has timed out'
          : outcome.stopReason === 'stopped'
            ? 'BUILD_STOPPED: Build was stopped'
            : (outcome.reason ?? uploaded.reason),
      exportedVariables,
      artifacts: uploaded.artifacts,
      reports,
      cache: cacheResult,
    };
  }

  private async upload(
    spec: Buildspec,
    outcome: PhasesOutcome,
  ): Promise<{ ok: boolean; artifacts: ArtifactResult[]; reason?: string }> {
    if (spec.artifacts.length === 0 || !outcome.uploadArtifacts) return { ok: true, artifacts: [] };
    const started = this.o.now();
    try {
      const artifacts = await uploadArtifacts({
        specs: spec.artifacts,
        root: this.srcDir,
        store: this.o.store,
        buildId: this.buildId,
        defaultName: this.o.project,
        expand: (text) => this.expand(text),
      });
      for (const artifact of artifacts) {
        this.log.system(
          `Artifact ${artifact.id} "${artifact.name}": ${artifact.files.length} files, ${artifact.totalBytes} bytes, ${artifact.digest}`,
        );
      }
      this.phases.push({
        phase: 'UPLOAD_ARTIFACTS',
        status: 'SUCCEEDED',
        startedAt: iso(started),
        durationMs: this.o.now() - started,
        attempts: 1,
      });
      return { ok: true, artifacts };
    } catch (error) {
      if (error instanceof PhoenixError && error.code === 'platform') throw error;
      const message = `CLIENT_ERROR: ${error instanceof Error ? error.message : String(error)}`;
      this.log.system(message);
      this.phases.push({
        phase: 'UPLOAD_ARTIFACTS',
        status: 'FAILED',
        startedAt: iso(started),
        durationMs: this.o.now() - started,
        attempts: 1,
        message,
      });
      return { ok: false, artifacts: [], reason: message };
    }
  }

  private async reports(spec: Buildspec): Promise<ReportResult[]> {
    if (spec.reports.length === 0) return [];
    try {
      const reports = await collectReports({
        specs: spec.reports,
        root: this.srcDir,
        destination: this.o.paths.reports,
      });
      for (const report of reports) {
        const summary = report.summary;
        this.log.system(
          summary === undefined
            ? `Report ${report.name} (${report.format}): ${report.files.length} files stored`
            : `Report ${report.name}: ${summary.passed} passed, ${summary.failed} failed, ${summary.errors} errors, ${summary.skipped} skipped`,
        );
        for (const problem of report.problems) this.log.system(`Report ${report.name}: ${problem}`);
      }
      return reports;
    } catch (error) {
      this.warn(
        `reports could not be collected: ${error instanceof Error ? error.message : String(error)}`,
      );
      return [];
    }
  }

  private async expand(text: string): Promise<string> {
    if (!text.includes('$') || this.session === undefined) return text;
    return this.session.expand(text);
  }

  private maskedLog(secrets: Record<string, string>): BuildLog {
    if (Object.keys(secrets).length === 0) return this.log;
    // Secrets are known only now; later lines go through a masking log on the same file.
    const previous = this.log;
    const masked = new BuildLog(
      this.o.paths.log,
      new SecretMasker(Object.values(secrets)),
      this.o.now,
    );
    if (this.o.request.onLog !== undefined) masked.subscribe(this.o.request.onLog);
    void previous.close();
    return masked;
  }

  private identity(): BuildIdentity {
    const { source, request, paths } = this.o;
    return {
      project: this.o.project,
      buildId: this.buildId,
      buildNumber: this.o.number,
      startTime: this.started,
      initiator: request.initiator ?? `phoenix/${safeUserName()}`,
      sourceDirectory: this.srcDir,
      home: paths.home,
      tmp: paths.tmp,
      logPath: paths.log,
      sourceVersion: source.requestedVersion,
      resolvedSourceVersion: source.commit,
      branch: source.branch,
      sourceRepoUrl: source.remoteUrl ?? (source.isGit ? source.root : undefined),
      webhook: request.webhook,
      batchIdentifier: request.batchIdentifier,
    };
  }

  private watchStop(request: BuildRequest): void {
    const timeout = request.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    this.timer = setTimeout(() => this.stop('timeout'), timeout);
    this.timer.unref();
    const external = this.o.signal;
    if (external === undefined) return;
    if (external.aborted) this.stop('stopped');
    else external.addEventListener('abort', () => this.stop('stopped'), { once: true });
  }

  private stop(reason: 'timeout' | 'stopped'): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    this.log.system(
      reason === 'timeout'
        ? 'Build timed out: stopping every process of the build'
        : 'Build stopped: stopping every process of the build',
    );
    void reapBuildProcesses(this.buildId, this.session?.pid);
  }

  /** FINALIZING: end the shell, kill whatever the build left running, drop the workspace. */
  private async finish(): Promise<void> {
    clearTimeout(this.timer);
    const started = this.o.now();
    if (this.session !== undefined) {
      await reapBuildProcesses(this.buildId, this.session.pid);
      await this.session.close();
      await reapBuildProcesses(this.buildId);
    }
    await removeWorkspace(
      this.o.request.keepWorkspace
        ? [this.o.paths.state]
        : [this.o.paths.source, this.o.paths.home, this.o.paths.tmp, this.o.paths.state],
    );
    this.phases.push({
      phase: 'FINALIZING',
      status: 'SUCCEEDED',
      startedAt: iso(started),
      durationMs: this.o.now() - started,
      attempts: 1,
    });
  }

  private warn(text: string): void {
    this.warnings.push(text);
    this.log.system(`Warning: ${text}`);
  }
}

interface PreparedBuild {
  spec: Buildspec;
  secrets: Record<string, string>;
  runAs?: RunAs;
  posixShell: boolean;
}

interface ExecuteOutcome {
  status: BuildStatus;
  reason?: string;
  exportedVariables: Record<string, string>;
  artifacts: ArtifactResult[];
  reports: ReportResult[];
  cache?: CacheResult;
}

function statusOf(outcome: PhasesOutcome, uploaded: boolean): BuildStatus {
  if (outcome.stopReason === 'timeout') return 'TIMED_OUT';
  if (outcome.stopReason === 'stopped') return 'STOPPED';
  return outcome.succeeded && uploaded ? 'SUCCEEDED' : 'FAILED';
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', '--', name]),
      run('id', ['-g', '--', name]),
    ]);
    return { user: name, uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    return undefined;
  }
}

async function chownTree(paths: BuildPaths, user: RunAs): Promise<void> {
  await run('chown', [
    '-R',
    `${user.uid}:${user.gid}`,
    '--',
    paths.source,
    paths.home,
    paths.tmp,
    paths.state,
  ]);
  await chown(paths.root, user.uid, user.gid);
}

function safeUserName(): string {
  try {
    return (process.env['USER'] ?? '') || 'local';
  } catch {
    return 'local';
  }
}
