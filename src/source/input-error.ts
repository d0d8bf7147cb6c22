import { ValidationError } from '../shared/errors.js';

/**
 * A value from outside (a webhook body, a repository name, a URL) is malformed. There is no
 * file behind such input, so the location names the input itself, as the CLI does for flags.
 */
export function inputError(
  input: string,
  key: string,
  message: string,
  options?: { cause?: unknown; line?: number; column?: number },
): ValidationError {
  return new ValidationError(
    [
      {
        location: { file: input, line: options?.line ?? 1, column: options?.column ?? 1 },
        key,
        message,
      },
    ],
    options?.cause === undefined ? undefined : { cause: options.cause },
  );
}
