import { userInfo } from 'node:os';
import type { Buildspec, KeyPath } from '../config/buildspec.js';
import { keyName } from '../config/yaml-source.js';
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
  const refuse = (path: KeyPath, patterns: readonly string[]): void => {
    for (const pattern of patterns) {
      // Patterns with variables are checked again after expansion, when files are collected.
      if (pattern.includes('$')) continue;
      const reason = patternEscape(pattern);
      if (reason === undefined) continue;
      issues.push({
        location: spec.source.locate(path),
        key: keyName(path),
        message: `${pattern}: ${reason}`,
      });
    }
  };
  for (const section of [...spec.artifacts, ...spec.reports]) {
    refuse(
      [...section.path, 'base-directory'],
      section.baseDirectory === undefined ? [] : [section.baseDirectory],
    );
    refuse([...section.path, 'files'], section.files);
    if ('excludePaths' in section) refuse([...section.path, 'exclude-paths'], section.excludePaths);
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

function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
