import { readFile } from 'node:fs/promises';
import { ValidationError } from '../shared/errors.js';

/**
 * The text of a configuration file. A file that cannot be read is a ValidationError at its
 * first line, like any problem inside it: "cannot read <what>: <error code>".
 */
export async function readConfigFile(
  path: string,
  displayName: string,
  what: string,
): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError(
      [
        {
          location: { file: displayName, line: 1, column: 1 },
          key: '',
          message: `cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        },
      ],
      { cause: error },
    );
  }
}
