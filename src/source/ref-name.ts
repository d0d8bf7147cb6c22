/**
 * Ref names arrive from outside (pushes, webhooks, polled remotes). They are checked here
 * before they name a run, a folder or a git argument. Safety never relies on this check
 * alone: git always runs through an argument array, never a shell.
 */

const MAX_REF_LENGTH = 255;
const TRIGGER_PREFIXES = ['refs/heads/', 'refs/tags/'] as const;

/** Characters git's check-ref-format refuses anywhere in a name (besides control characters). */
const FORBIDDEN_CHARACTERS = /[ ~^:?*[\\]/;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** The id git reports for "no commit": the old side of a creation, the new side of a deletion. */
export function zeroCommitLike(commit: string): string {
  return '0'.repeat(commit.length === 64 ? 64 : 40);
}

export function isZeroCommit(commit: string | undefined): boolean {
  return commit !== undefined && /^(?:0{40}|0{64})$/.test(commit);
}

/** A full object id: 40 hex digits (SHA-1) or 64 (SHA-256). Abbreviations are refused. */
export function isCommitId(value: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value);
}

/**
 * Why `ref` cannot trigger a run, or undefined when it can. These are git's
 * check-ref-format rules, plus Phoenix's own: only full branch and tag names
 * (`refs/heads/...`, `refs/tags/...`), and no name starting with `-`.
 */
export function validateRefName(ref: string): string | undefined {
  const gitProblem = gitRefNameProblem(ref);
  if (gitProblem !== undefined) return gitProblem;
  const prefix = TRIGGER_PREFIXES.find((candidate) => ref.startsWith(candidate));
  if (prefix === undefined) return 'must start with refs/heads/ or refs/tags/';
  const shortName = ref.slice(prefix.length);
  if (shortName === '') return `names nothing after ${prefix}`;
  if (shortName.startsWith('-')) return 'a branch or tag name must not start with "-"';
  if (prefix === 'refs/heads/' && shortName === 'HEAD') return 'a branch cannot be called HEAD';
  return undefined;
}

function gitRefNameProblem(ref: string): string | undefined {
  if (ref === '') return 'is empty';
  if (ref.length > MAX_REF_LENGTH) return `is longer than ${MAX_REF_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(ref)) return 'contains a control character';
  const forbidden = FORBIDDEN_CHARACTERS.exec(ref);
  if (forbidden !== null) return `contains the forbidden character ${JSON.stringify(forbidden[0])}`;
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('@{')) return 'contains "@{"';
  if (ref === '@') return 'is "@"';
  if (ref.startsWith('-')) return 'starts with "-"';
  if (ref.startsWith('/')) return 'starts with "/"';
  if (ref.endsWith('/')) return 'ends with "/"';
  if (ref.endsWith('.')) return 'ends with "."';
  if (ref.includes('//')) return 'contains "//"';
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return `has a component starting with ".": ${component}`;
    if (component.endsWith('.lock')) return `has a component ending with ".lock": ${component}`;
  }
  return undefined;
}

/** `main` for `refs/heads/main`; undefined for anything that is not a branch. */
export function branchOf(ref: string): string | undefined {
  return shortNameAfter(ref, 'refs/heads/');
}

/** `v1.2.0` for `refs/tags/v1.2.0`; undefined for anything that is not a tag. */
export function tagOf(ref: string): string | undefined {
  return shortNameAfter(ref, 'refs/tags/');
}

function shortNameAfter(ref: string, prefix: string): string | undefined {
  if (!ref.startsWith(prefix) || ref.length === prefix.length) return undefined;
  return ref.slice(prefix.length);
}
