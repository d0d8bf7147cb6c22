/**
 * A phase's `on-failure` setting, as the CodeBuild buildspec reference defines it:
 * ABORT, CONTINUE, RETRY, RETRY-count, RETRY-regex, RETRY-count-regex.
 */
export type OnFailure =
  | { action: 'ABORT' }
  | { action: 'CONTINUE' }
  | {
      action: 'RETRY';
      /** Further attempts after the first failure (CodeBuild: "retry up to N times"). */
      retries: number;
      /** Matched against the failure message and the failing command's output. */
      pattern: RegExp;
    };

export const DEFAULT_RETRIES = 3;
export const MAX_RETRIES = 100;

/** Returns the setting, or an error message naming what is wrong. */
export function parseOnFailure(text: string): OnFailure | string {
  const value = text.trim();
  const upper = value.toUpperCase();
  if (upper === 'ABORT') return { action: 'ABORT' };
  if (upper === 'CONTINUE') return { action: 'CONTINUE' };
  if (upper === 'RETRY') return { action: 'RETRY', retries: DEFAULT_RETRIES, pattern: /.*/ };
  if (!upper.startsWith('RETRY-')) {
    return `"${value}" is not one of ABORT, CONTINUE, RETRY, RETRY-count, RETRY-regex, RETRY-count-regex`;
  }
  const rest = value.slice('RETRY-'.length);
  const counted = /^(\d+)(?:-(.*))?$/s.exec(rest);
  const retries = counted ? Number(counted[1]) : DEFAULT_RETRIES;
  const regex = counted ? counted[2] : rest;
  if (retries > MAX_RETRIES) return `retry count ${retries} is above the maximum of ${MAX_RETRIES}`;
  if (regex === '') return `"${value}" ends with "-" but names no regular expression`;
  let pattern = /.*/;
  if (regex !== undefined) {
    try {
      pattern = new RegExp(regex);
    } catch (error) {
      return `invalid regular expression "${regex}": ${(error as Error).message}`;
    }
  }
  return { action: 'RETRY', retries, pattern };
}
