import { zeroCommitLike } from './ref-name.js';

/**
 * One ref moved. A created ref has `before` all zeros, a deleted one `after` all zeros,
 * as in git's own hooks and GitHub's push events.
 */
export interface RefChange {
  ref: string;
  before: string;
  after: string;
}

/** What changed from `previous` to `current`, in ref name order. */
export function compareRefs(
  previous: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, string>,
): RefChange[] {
  const changes: RefChange[] = [];
  for (const [ref, after] of current) {
    const before = previous.get(ref);
    if (before === undefined) changes.push({ ref, before: zeroCommitLike(after), after });
    else if (before !== after) changes.push({ ref, before, after });
  }
  for (const [ref, before] of previous) {
    if (!current.has(ref)) changes.push({ ref, before, after: zeroCommitLike(before) });
  }
  return changes.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}
