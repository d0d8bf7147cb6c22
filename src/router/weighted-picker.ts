/**
 * nginx's smooth weighted round-robin: every pick adds each candidate's weight to its
 * running score, takes the highest score (the first on a tie) and subtracts the total
 * weight from the winner. Over any run of `sum(weights)` picks each candidate is chosen
 * exactly `weight` times, and the picks are interleaved (5/1/1 gives a a b a c a a), not
 * bunched, so a 10% canary sees every tenth request rather than ten in a row.
 *
 * A candidate that is not available (its group has no target to take the request) is left
 * out of the round: its share goes to the others in proportion to their weights, and its
 * score is kept for when it comes back. Weight 0 is never picked.
 */
export function smoothWeightedPick(
  current: readonly number[],
  weights: readonly number[],
  available?: readonly boolean[],
): { index: number | undefined; current: number[] } {
  const next = [...current];
  const index = step(next, weights, available);
  return { index, current: next };
}

/** The picker's running state for one split. Not shared between splits: a new split starts afresh. */
export class WeightedPicker {
  private readonly current: number[];
  private standbyCursor = 0;

  constructor(private readonly weights: readonly number[]) {
    this.current = weights.map(() => 0);
  }

  /** The index of the next candidate, or undefined when none with weight is available. */
  pick(available?: readonly boolean[]): number | undefined {
    return step(this.current, this.weights, available);
  }

  /**
   * The fallback when `pick` finds no candidate with weight: round-robin over the available
   * candidates of weight 0 (groups still in the split, such as blue during a bake), or
   * undefined when none is available. Weighted candidates are never chosen here.
   */
  pickStandby(available: readonly boolean[]): number | undefined {
    const count = this.weights.length;
    for (let tries = 0; tries < count; tries++) {
      const index = this.standbyCursor++ % count;
      if ((this.weights[index] ?? 0) <= 0 && available[index] === true) return index;
    }
    return undefined;
  }
}

function step(
  current: number[],
  weights: readonly number[],
  available: readonly boolean[] | undefined,
): number | undefined {
  let total = 0;
  let best: number | undefined;
  let bestScore = -Infinity;
  for (let index = 0; index < weights.length; index++) {
    const weight = weights[index] ?? 0;
    if (weight <= 0 || available?.[index] === false) continue;
    const score = (current[index] ?? 0) + weight;
    current[index] = score;
    total += weight;
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  }
  if (best !== undefined) current[best] = bestScore - total;
  return best;
}
