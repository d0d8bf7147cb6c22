import { describe, expect, it } from 'vitest';
import { smoothWeightedPick, WeightedPicker } from './weighted-picker.js';

function sequence(weights: number[], picks: number, available?: boolean[]): (number | undefined)[] {
  const picker = new WeightedPicker(weights);
  return Array.from({ length: picks }, () => picker.pick(available));
}

function counts(weights: number[], picks: number, available?: boolean[]): number[] {
  const result = weights.map(() => 0);
  for (const index of sequence(weights, picks, available)) {
    if (index !== undefined) result[index] = (result[index] ?? 0) + 1;
  }
  return result;
}

describe('smooth weighted round-robin', () => {
  it.each([
    { weights: [5, 1, 1], expected: [0, 0, 1, 0, 2, 0, 0] },
    { weights: [50, 50], expected: [0, 1, 0, 1] },
    { weights: [100, 0], expected: [0, 0, 0] },
    { weights: [0, 100], expected: [1, 1, 1] },
    { weights: [2, 1], expected: [0, 1, 0, 0, 1, 0] },
  ])('interleaves picks for weights $weights as nginx does', ({ weights, expected }) => {
    const picks = sequence(weights, expected.length);

    expect(picks).toEqual(expected);
  });

  it.each([
    { weights: [90, 10], picks: 1000, expected: [900, 100] },
    { weights: [99, 1], picks: 1000, expected: [990, 10] },
    { weights: [34, 33, 33], picks: 1000, expected: [340, 330, 330] },
    { weights: [70, 20, 10], picks: 100, expected: [70, 20, 10] },
  ])('gives exactly the weights over $picks picks: $weights', ({ weights, picks, expected }) => {
    const result = counts(weights, picks);

    expect(result).toEqual(expected);
  });

  it.each([
    { weights: [90, 10], available: [false, true], expected: [0, 300] },
    { weights: [50, 25, 25], available: [true, false, true], expected: [200, 0, 100] },
    { weights: [50, 50], available: [false, false], expected: [0, 0] },
  ])(
    'shares an unavailable candidate among the others: $weights with $available',
    ({ weights, available, expected }) => {
      const result = counts(weights, 300, available);

      expect(result).toEqual(expected);
    },
  );

  it('answers undefined when nothing is available', () => {
    const picker = new WeightedPicker([0, 0]);

    expect(picker.pick()).toBeUndefined();
    expect(new WeightedPicker([]).pick()).toBeUndefined();
  });

  it.each([
    { weights: [100, 0, 0], available: [true, true, true], expected: [1, 2, 1, 2] },
    { weights: [100, 0, 0], available: [false, false, true], expected: [2, 2] },
    { weights: [100, 0], available: [true, false], expected: [undefined] },
    { weights: [50, 50], available: [true, true], expected: [undefined] },
  ])(
    'falls back round-robin on weight 0 candidates only: $weights with $available',
    ({ weights, available, expected }) => {
      const picker = new WeightedPicker(weights);

      const picks = expected.map(() => picker.pickStandby(available));

      expect(picks).toEqual(expected);
    },
  );

  it('is pure as a function: the state goes in and comes out', () => {
    const before = [0, 0];

    const first = smoothWeightedPick(before, [3, 1]);
    const second = smoothWeightedPick(first.current, [3, 1]);

    expect(before).toEqual([0, 0]);
    expect(first).toEqual({ index: 0, current: [-1, 1] });
    expect(second).toEqual({ index: 0, current: [-2, 2] });
  });
});
