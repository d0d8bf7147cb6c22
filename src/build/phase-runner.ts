import type { BuildCommand, BuildPhase, Buildspec, PhaseName } from '../config/buildspec.js';
import { PHASE_NAMES } from '../config/buildspec.js';
import type { PhaseResult, PhaseStatus, PhaseType } from './build-result.js';
import type { CommandOutcome } from './shell-session.js';

/** The part of a shell session the phase runner needs; a fake can stand in for it in tests. */
export interface CommandShell {
  run(command: string): Promise<CommandOutcome>;
  export(name: string, value: string): Promise<void>;
}

export type StopReason = 'timeout' | 'stopped';

export interface PhaseRunnerDeps {
  shell: CommandShell;
  log: (text: string) => void;
  now: () => number;
  /** Aborted with a StopReason when the build times out or is stopped. */
  signal: AbortSignal;
}

export interface PhasesOutcome {
  phases: PhaseResult[];
  succeeded: boolean;
  /** False when a failure ended the build before artifacts (install/pre_build failure, ABORT, stop). */
  uploadArtifacts: boolean;
  stopReason?: StopReason;
  /** The first failure's message, for the build's one-line reason. */
  reason?: string;
}

export const PHASE_TYPES: Record<PhaseName, PhaseType> = {
  install: 'INSTALL',
  pre_build: 'PRE_BUILD',
  build: 'BUILD',
  post_build: 'POST_BUILD',
};

interface AttemptFailure {
  command: BuildCommand;
  exitCode: number;
  message: string;
  tail: string;
}

/**
 * Runs the buildspec's phases in CodeBuild's order and with its transitions:
 * a failing command skips the rest of its phase's commands, `finally` still runs;
 * a failed install or pre_build ends the build; a failed build phase goes on to post_build
 * with CODEBUILD_BUILD_SUCCEEDING=0; `on-failure` ABORT, CONTINUE and RETRY change that.
 */
export async function runPhases(spec: Buildspec, deps: PhaseRunnerDeps): Promise<PhasesOutcome> {
  const results: PhaseResult[] = [];
  let succeeded = true;
  let ended = false;
  let uploadArtifacts = true;
  let reason: string | undefined;
  for (const name of PHASE_NAMES) {
    const phase = spec.phases.find((candidate) => candidate.name === name);
    if (phase === undefined) continue;
    if (ended || deps.signal.aborted) {
      results.push({ phase: PHASE_TYPES[name], status: 'SKIPPED', durationMs: 0, attempts: 0 });
      continue;
    }
    const result = await runPhase(phase, deps);
    results.push(result);
    if (result.status === 'SUCCEEDED') continue;
    succeeded = false;
    reason ??= result.message;
    if (result.status !== 'FAILED') {
      ended = true;
      uploadArtifacts = false;
      continue;
    }
    await deps.shell.export('CODEBUILD_BUILD_SUCCEEDING', '0');
    const action = phase.onFailure?.value.action;
    if (action === 'ABORT') {
      deps.log(`Phase ${PHASE_TYPES[name]} failed with on-failure: ABORT; the build stops here`);
      ended = true;
      uploadArtifacts = false;
    } else if (action === 'CONTINUE' || name === 'build') {
      continue;
    } else if (name === 'install' || name === 'pre_build') {
      deps.log(`Phase ${PHASE_TYPES[name]} failed; later phases are skipped, as in CodeBuild`);
      ended = true;
      uploadArtifacts = false;
    }
  }
  const stopReason = stopReasonOf(deps.signal);
  return {
    phases: results,
    succeeded: succeeded && stopReason === undefined,
    uploadArtifacts: uploadArtifacts && stopReason === undefined,
    stopReason,
    reason,
  };
}

async function runPhase(phase: BuildPhase, deps: PhaseRunnerDeps): Promise<PhaseResult> {
  const type = PHASE_TYPES[phase.name];
  const started = deps.now();
  const onFailure = phase.onFailure?.value;
  let attempts = 0;
  let failure: AttemptFailure | undefined;
  deps.log(`Entering phase ${type}`);
  for (;;) {
    attempts++;
    failure = await runCommands(phase.commands, deps);
    const finallyFailure = await runCommands(phase.finally, deps);
    failure ??= finallyFailure;
    if (failure === undefined || deps.signal.aborted) break;
    if (onFailure?.action !== 'RETRY' || attempts > onFailure.retries) break;
    if (!onFailure.pattern.test(failure.message) && !onFailure.pattern.test(failure.tail)) {
      deps.log(
        `on-failure RETRY: the failure does not match /${onFailure.pattern.source}/; not retrying`,
      );
      break;
    }
    deps.log(
      `on-failure RETRY: running phase ${type} again (retry ${attempts} of ${onFailure.retries})`,
    );
  }
  const status = phaseStatus(failure, deps.signal);
  const message = status === 'SUCCEEDED' ? undefined : failureMessage(status, failure);
  deps.log(`Phase complete: ${type} State: ${status}`);
  if (message !== undefined) deps.log(`Phase context status code: ${message}`);
  return {
    phase: type,
    status,
    startedAt: new Date(started).toISOString(),
    durationMs: deps.now() - started,
    attempts,
    message,
  };
}

async function runCommands(
  commands: readonly BuildCommand[],
  deps: PhaseRunnerDeps,
): Promise<AttemptFailure | undefined> {
  for (const command of commands) {
    if (deps.signal.aborted) return undefined;
    deps.log(`Running command ${command.text}`);
    const outcome = await deps.shell.run(command.text);
    if (outcome.exitCode !== 0) {
      return {
        command,
        exitCode: outcome.exitCode,
        message: `Error while executing command: ${command.text}. Reason: exit status ${outcome.exitCode}`,
        tail: outcome.tail,
      };
    }
  }
  return undefined;
}

function phaseStatus(failure: AttemptFailure | undefined, signal: AbortSignal): PhaseStatus {
  const stop = stopReasonOf(signal);
  if (stop === 'timeout') return 'TIMED_OUT';
  if (stop === 'stopped') return 'STOPPED';
  return failure === undefined ? 'SUCCEEDED' : 'FAILED';
}

function failureMessage(status: PhaseStatus, failure: AttemptFailure | undefined): string {
  if (status === 'TIMED_OUT') return 'BUILD_TIMED_OUT: Build has timed out';
  if (status === 'STOPPED') return 'BUILD_STOPPED: Build was stopped';
  const where =
    failure === undefined
      ? ''
      : ` (${failure.command.location.file}:${failure.command.location.line}, ${failure.command.key})`;
  return `COMMAND_EXECUTION_ERROR: ${failure?.message ?? 'a command failed'}${where}`;
}

export function stopReasonOf(signal: AbortSignal): StopReason | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason === 'timeout' ? 'timeout' : 'stopped';
}
