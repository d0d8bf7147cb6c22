import { userInfo } from 'node:os';
import type { Buildspec } from '../config/buildspec.js';
import type { ValidationIssue } from '../shared/errors.js';
import { patternEscape } from './file-set.js';

export const SUPPORTED_SHELLS = ['bash', '/bin/bash', '/usr/bin/bash', 'sh', '/bin/sh'] as const;

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

export interface PreflightContext {
  /** Looks up a local user; undefined when there is none. */
  lookupUser: (name: string) => Promise<RunAs | undefined>;
  currentUid: number;
}

export interface PreflightResult {
  issues: ValidationIssue[];
  runAs?: RunAs;
  posixShell: boolean;
}

/**
 * What the local executor cannot honour, found before any command runs: each problem names
 * the buildspec's file, line, column and key. Checks here need the machine (users, shells);
 * the parser already did everything that only needs the file.
 */
export async function preflight(
  spec: Buildspec,
  context: PreflightContext,
): Promise<PreflightResult> {
  const issues: ValidationIssue[] = [];
  const shell = spec.env.shell;
  if (shell !== undefined && !(SUPPORTED_SHELLS as readonly string[]).includes(shell.value)) {
    issues.push({
      location: shell.location,
      key: shell.key,
      message: `shell "${shell.value}" is not supported on Linux; use bash or /bin/sh`,
    });
  }
  const runAs = await checkRunAs(spec, context, issues);
  for (const artifact of spec.artifacts) {
    for (const pattern of [
      artifact.baseDirectory ?? '.',
      ...artifact.files,
      ...artifact.excludePaths,
    ]) {
      refuseEscape(pattern, artifact.location, artifact.key, issues);
    }
  }
  for (const report of spec.reports) {
    for (const pattern of [report.baseDirectory ?? '.', ...report.files]) {
      refuseEscape(pattern, report.location, `reports.${report.name}`, issues);
    }
  }
  return { issues, runAs, posixShell: shell?.value === 'sh' || shell?.value === '/bin/sh' };
}

async function checkRunAs(
  spec: Buildspec,
  context: PreflightContext,
  issues: ValidationIssue[],
): Promise<RunAs | undefined> {
  const wanted = spec.runAs;
  let runAs: RunAs | undefined;
  if (wanted !== undefined) {
    const user = await context.lookupUser(wanted.value);
    if (user === undefined) {
      issues.push({
        location: wanted.location,
        key: wanted.key,
        message: `no user "${wanted.value}" on this machine`,
      });
    } else if (user.uid !== context.currentUid && context.currentUid !== 0) {
      issues.push({
        location: wanted.location,
        key: wanted.key,
        message: `running as "${wanted.value}" needs Phoenix to run as root (it runs as uid ${context.currentUid})`,
      });
    } else if (user.uid !== context.currentUid) {
      runAs = user;
    }
  }
  const effective = wanted?.value ?? currentUserName();
  for (const phase of spec.phases) {
    if (phase.runAs === undefined || phase.runAs.value === effective) continue;
    issues.push({
      location: phase.runAs.location,
      key: phase.runAs.key,
      message: `a phase cannot run as "${phase.runAs.value}" while the build runs as "${effective}": Phoenix keeps one shell session for the whole build; set run-as at the top level instead`,
    });
  }
  return runAs;
}

function refuseEscape(
  pattern: string,
  location: ValidationIssue['location'],
  key: string,
  issues: ValidationIssue[],
): void {
  // Patterns with variables are checked again after expansion, when the artifacts are collected.
  if (pattern.includes('$')) return;
  const reason = patternEscape(pattern);
  if (reason !== undefined) issues.push({ location, key, message: `${pattern}: ${reason}` });
}

function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
