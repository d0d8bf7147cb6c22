import { IllegalTransitionError } from '../shared/errors.js';

/** A transition table: for each status, the statuses it may move to. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export function canTransition<S extends string>(
  table: TransitionTable<S>,
  from: S,
  to: S,
): boolean {
  return table[from].includes(to);
}

/** Throws IllegalTransitionError unless the table allows `from` → `to`. */
export function assertTransition<S extends string>(
  entity: string,
  table: TransitionTable<S>,
  from: S,
  to: S,
): void {
  if (!canTransition(table, from, to)) throw new IllegalTransitionError(entity, from, to);
}
