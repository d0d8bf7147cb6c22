import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { loadBuildspec, type Buildspec } from '../config/buildspec.js';
import { formatIssue, ValidationError, type ValidationIssue } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ArtifactStore } from './artifact-store.js';
import { BuildCache } from './build-cache.js';
import { buildEnvironment, type BuildIdentity } from './build-env.js';
import { BuildLog } from './build-log.js';
import { collectBuildReports, uploadBuildArtifacts, type OutputContext } from './build-outputs.js';
import type { BuildPaths } from './build-paths.js';
import type { BuildStatus, BuildSummary, PhaseResult, PhaseType } from './build-result.js';
import { CacheStep, cachePathIssues } from './cache-step.js';
import type { CacheLocation } from './cache-paths.js';
import { DEFAULT_BUILD_TIMEOUT_MS, DEFAULT_BUILDSPEC, type BuildRequest } from './executor.js';
import { runPhases, type StopReason } from './phase-runner.js';
import { preflight, type RunAs } from './preflight.js';
import { reapBuildProcesses } from './process-reaper.js';
import { chownBuildFolders, lookupUser } from './run-as.js';
import { bubblewrapArgs } from './sandbox.js';
import { SecretMasker } from './secret-masker.js';
import { resolveBuildSecrets, type SecretResolver } from './secrets.js';
import { ShellSession } from './shell-session.js';
import { checkout, removeWorkspace, type SourceInfo } from './workspace.js';

export interface LocalBuildOptions {
  home: string;
  secrets: SecretResolver;
  logger: Logger;
  hostEnv: NodeJS.ProcessEnv;
  libexec: string;
  store: ArtifactStore;
  now: () => number;
  request: BuildRequest;
  source: SourceInfo;
  project: string;
  number: number;
  paths: BuildPaths;
  signal: AbortSignal | undefined;
}

interface PreparedBuild {
  spec: Buildspec;
  secrets: Record<string, string>;
  runAs?: RunAs;
  posixShell: boolean;
}

type Outcome = Pick<
  BuildSummary,
  'status' | 'reason' | 'exportedVariables' | 'artifacts' | 'reports' | 'cache'
>;

const STOP_REASONS: Record<StopReason, string> = {
  timeout: 'BUILD_TIMED_OUT: Build has timed out',
  stopped: 'BUILD_STOPPED: Build was stopped',
};

/**
 * One build from checkout to summary, in CodeBuild's phases: DOWNLOAD_SOURCE (checkout,
 * buildspec, preflight), the buildspec's phases, UPLOAD_ARTIFACTS, FINALIZING (every process
 * reaped, workspace removed). Written once per build; not reusable.
 */
export class LocalBuild {
  private readonly started: number;
  private readonly buildId: string;
  private readonly controller = new AbortController();
  private readonly phases: PhaseResult[] = [];
  private readonly warnings: string[] = [];
  private readonly log: BuildLog;
  /** CODEBUILD_SRC_DIR: the checkout, or the requested folder inside it. */
  private readonly srcDir: string;
  private session: ShellSession | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LocalBuildOptions) {
    this.started = o.now();
    this.buildId = `${o.project}:${randomUUID()}`;
    this.log = new BuildLog(o.paths.log, new SecretMasker([]), o.now);
    if (o.request.onLog !== undefined) this.log.subscribe(o.request.onLog);
    this.srcDir = join(o.paths.source, o.source.subdirectory);
  }

  async run(): Promise<BuildSummary> {
    this.watchStop();
    let outcome: Outcome;
    try {
      await this.o.request.onStart?.({
        buildId: this.buildId,
        buildNumber: this.o.number,
        logFile: this.o.paths.log,
      });
      const prepared = await this.prepare();
      outcome = 'refused' in prepared ? empty(prepared.refused) : await this.execute(prepared);
    } catch (error) {
      const reason = `PLATFORM_ERROR: ${error instanceof Error ? error.message : String(error)}`;
      this.o.logger.error({ buildId: this.buildId, err: error }, 'build failed inside Phoenix');
      this.log.system(reason);
      outcome = { ...empty(reason), status: 'FAULT' };
    } finally {
      await this.finish();
    }
    const summary: BuildSummary = {
      buildId: this.buildId,
      buildNumber: this.o.number,
      project: this.o.project,
      ...outcome,
      sourceVersion: this.o.source.requestedVersion,
      resolvedSourceVersion: this.o.source.commit,
      startedAt: new Date(this.started).toISOString(),
      durationMs: this.o.now() - this.started,
      phases: this.phases,
      warnings: this.warnings,
      logFile: this.o.paths.log,
    };
    this.log.system(`Build ${summary.status}${summary.reason ? `: ${summary.reason}` : ''}`);
    await this.log.close();
    await writeFile(this.o.paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  }

  /** DOWNLOAD_SOURCE: checkout, buildspec, preflight, secrets. */
  private async prepare(): Promise<PreparedBuild | { refused: string }> {
    const { request, source, paths } = this.o;
    const started = this.o.now();
    const at = source.commit ? ` at ${source.commit.slice(0, 12)}` : '';
    this.log.system(`Build ${this.buildId} (#${this.o.number}) of ${source.root}${at}`);
    if (source.dirty) {
      this.warn('the working tree has uncommitted changes; the build uses the committed version');
    }
    if (!source.isGit)
      this.warn('the source is not a git repository; the build uses a copy of the folder');
    await checkout(source, paths.source);
    const buildspecPath = request.buildspec ?? DEFAULT_BUILDSPEC;
    const absolute = isAbsolute(buildspecPath);
    let spec: Buildspec;
    try {
      spec = await loadBuildspec(
        absolute ? buildspecPath : join(this.srcDir, buildspecPath),
        absolute ? buildspecPath : join(source.subdirectory, buildspecPath),
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return this.refuse(started, 'YAML_FILE_ERROR', error.issues);
    }
    for (const warning of spec.warnings) this.warn(formatIssue(warning));
    const checked = await preflight(spec, { lookupUser, currentUid: process.getuid?.() ?? 0 });
    const secrets = await resolveBuildSecrets(
      spec,
      this.o.secrets,
      Object.keys(request.overrides ?? {}),
    );
    const issues = [
      ...checked.issues,
      ...secrets.issues,
      ...cachePathIssues(spec.cache, this.cacheLocation()),
    ];
    if (issues.length > 0) return this.refuse(started, 'UNSUPPORTED_BUILDSPEC', issues);
    this.phases.push(this.phase('DOWNLOAD_SOURCE', started, 'SUCCEEDED'));
    return { spec, secrets: secrets.values, runAs: checked.runAs, posixShell: checked.posixShell };
  }

  private refuse(
    started: number,
    code: string,
    issues: readonly ValidationIssue[],
  ): { refused: string } {
    for (const issue of issues) this.log.system(`${code}: ${formatIssue(issue)}`);
    const refused = `${code}: ${issues.map(formatIssue).join('; ')}`;
    this.phases.push(this.phase('DOWNLOAD_SOURCE', started, 'FAILED', refused));
    return { refused };
  }

  private async execute(prepared: PreparedBuild): Promise<Outcome> {
    const { spec } = prepared;
    this.log.maskWith(new SecretMasker(Object.values(prepared.secrets)));
    if (prepared.runAs !== undefined) await chownBuildFolders(this.o.paths, prepared.runAs);
    const session = this.startShell(prepared);
    const system = (text: string): void => this.log.system(text);
    const cache =
      spec.cache === undefined
        ? undefined
        : new CacheStep(
            spec.cache,
            new BuildCache({
              directory: join(this.o.home, 'cache', this.o.project),
              now: this.o.now,
            }),
            this.cacheLocation(),
            system,
          );
    await cache?.restore((text) => session.expand(text));
    const phases = await runPhases(spec, {
      shell: session,
      log: system,
      now: this.o.now,
      signal: this.controller.signal,
    });
    this.phases.push(...phases.phases);
    if (phases.stopReason !== undefined) {
      return { ...empty(STOP_REASONS[phases.stopReason]), status: stopStatus(phases.stopReason) };
    }
    const exportedVariables = await session.read(spec.env.exportedVariables);
    const outputs = this.outputContext(spec);
    const upload = phases.uploadArtifacts ? await uploadBuildArtifacts(outputs) : { artifacts: [] };
    if (upload.phase !== undefined) this.phases.push(upload.phase);
    const reports = await collectBuildReports(outputs, (text) => this.warn(text));
    const succeeded = phases.succeeded && upload.failure === undefined;
    return {
      status: succeeded ? 'SUCCEEDED' : 'FAILED',
      reason: phases.reason ?? upload.failure,
      exportedVariables,
      artifacts: upload.artifacts,
      reports,
      cache: await cache?.finish(succeeded),
    };
  }

  private startShell(prepared: PreparedBuild): ShellSession {
    const env = buildEnvironment({
      host: this.o.hostEnv,
      buildspecVariables: prepared.spec.env.variables,
      secrets: prepared.secrets,
      overrides: this.o.request.overrides ?? {},
      identity: this.identity(),
    });
    env['PATH'] = `${env['PATH'] ?? ''}${delimiter}${this.o.libexec}`;
    const { paths } = this.o;
    this.session = new ShellSession({
      cwd: this.srcDir,
      env,
      stateDirectory: paths.state,
      persistState: prepared.spec.version === '0.2',
      posix: prepared.posixShell,
      wrapper: this.o.request.sandbox
        ? bubblewrapArgs([paths.source, paths.home, paths.tmp, paths.state], this.srcDir, [
            this.o.home,
          ])
        : undefined,
      uid: prepared.runAs?.uid,
      gid: prepared.runAs?.gid,
      onOutput: (stream, line) => this.log.write(stream, line),
    });
    return this.session;
  }

  private outputContext(spec: Buildspec): OutputContext {
    return {
      spec,
      root: this.srcDir,
      store: this.o.store,
      buildId: this.buildId,
      project: this.o.project,
      reportsDirectory: this.o.paths.reports,
      expand: async (text) =>
        text.includes('$') && this.session ? this.session.expand(text) : text,
      log: (text) => this.log.system(text),
      now: this.o.now,
    };
  }

  private cacheLocation(): CacheLocation {
    return { root: this.srcDir, home: this.o.paths.home };
  }

  private identity(): BuildIdentity {
    const { source, request, paths } = this.o;
    return {
      project: this.o.project,
      buildId: this.buildId,
      buildNumber: this.o.number,
      startTime: this.started,
      initiator: request.initiator ?? `phoenix/${this.o.hostEnv['USER'] || 'local'}`,
      sourceDirectory: this.srcDir,
      home: paths.home,
      tmp: paths.tmp,
      logPath: paths.log,
      sourceVersion: source.requestedVersion,
      resolvedSourceVersion: source.commit,
      branch: request.branch ?? source.branch,
      sourceRepoUrl: source.remoteUrl ?? (source.isGit ? source.root : undefined),
      webhook: request.webhook,
      batchIdentifier: request.batchIdentifier,
    };
  }

  private watchStop(): void {
    this.timer = setTimeout(
      () => this.stop('timeout'),
      this.o.request.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
    );
    this.timer.unref();
    const external = this.o.signal;
    if (external?.aborted) this.stop('stopped');
    else external?.addEventListener('abort', () => this.stop('stopped'), { once: true });
  }

  private stop(reason: StopReason): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    const why = reason === 'timeout' ? 'Build timed out' : 'Build stopped';
    this.log.system(`${why}: stopping every process of the build`);
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
    const { paths } = this.o;
    await removeWorkspace(
      this.o.request.keepWorkspace
        ? [paths.state]
        : [paths.source, paths.home, paths.tmp, paths.state],
    );
    this.phases.push(this.phase('FINALIZING', started, 'SUCCEEDED'));
  }

  private phase(
    phase: PhaseType,
    started: number,
    status: PhaseResult['status'],
    message?: string,
  ): PhaseResult {
    return {
      phase,
      status,
      startedAt: new Date(started).toISOString(),
      durationMs: this.o.now() - started,
      attempts: 1,
      message,
    };
  }

  private warn(text: string): void {
    this.warnings.push(text);
    this.log.system(`Warning: ${text}`);
  }
}

function empty(reason: string): Outcome {
  return { status: 'FAILED', reason, exportedVariables: {}, artifacts: [], reports: [] };
}

function stopStatus(reason: StopReason): BuildStatus {
  return reason === 'timeout' ? 'TIMED_OUT' : 'STOPPED';
}
