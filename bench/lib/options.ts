/** Reads a command-line count such as `--rounds 5`. */
export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1, not ${text}`);
  }
  return value;
}
