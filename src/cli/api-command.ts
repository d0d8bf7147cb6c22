import { InvalidArgumentError, type Command } from 'commander';
import pc from 'picocolors';
import { ApiClient, ApiError, ServerUnreachableError, type FieldError } from './api-client.js';
import {
  DEFAULT_SERVER_URL,
  resolveConnection,
  TOKEN_ENV,
  URL_ENV,
  type Connection,
  type ConnectionFlags,
  type SettingSource,
} from './cli-config.js';

/** What every command that talks to the server accepts. */
export interface ConnectionOptions extends ConnectionFlags {
  json?: boolean;
}

/** picocolors, or `plainColors()` (tests, pipes) */
export type Colors = typeof pc;

/** Colors that are no colors: for tests and for output that must stay plain. */
export function plainColors(): Colors {
  return { ...pc.createColors(false), createColors: pc.createColors };
}

/** Adds `--url` and `--token`, and `--json` when the command prints data. */
export function withConnectionOptions(command: Command, { json = true } = {}): Command {
  command
    .option(
      '--url <url>',
      `Phoenix server (default: ${URL_ENV}, phoenix login's, ${DEFAULT_SERVER_URL})`,
    )
    .option('--token <token>', `API token (default: ${TOKEN_ENV}, then phoenix login's)`);
  if (json) command.option('--json', "print the API's JSON, for scripts");
  return command;
}

/**
 * Runs a command against the server. Answers from the server that are errors, and a server
 * that does not answer, are printed as `phoenix: <title>: <detail>` and exit 1; missing or
 * malformed settings (no token, a bad URL) propagate as usage errors (exit 2).
 */
export async function runApiCommand(
  options: ConnectionFlags,
  body: (client: ApiClient, connection: Connection) => Promise<number | undefined>,
): Promise<void> {
  const connection = await resolveConnection({ url: options.url, token: options.token });
  const client = new ApiClient({ url: connection.url, token: connection.token });
  try {
    process.exitCode = (await body(client, connection)) ?? 0;
  } catch (error) {
    if (!(error instanceof ApiError) && !(error instanceof ServerUnreachableError)) throw error;
    process.stderr.write(formatFailure(error, connection.tokenSource));
    process.exitCode = 1;
  }
}

const TOKEN_SOURCES: Record<SettingSource, string> = {
  flag: '--token',
  env: TOKEN_ENV,
  file: 'phoenix login',
  default: 'default',
};

/** An API failure for a person: the problem's title and detail, each field error, a hint. */
export function formatFailure(
  error: ApiError | ServerUnreachableError,
  tokenSource?: SettingSource,
  colors: Colors = pc,
): string {
  if (error instanceof ServerUnreachableError) return `phoenix: ${error.message}\n`;
  const fields = error.errors.map((field) => formatFieldError(field, plainColors()));
  // Phoenix's detail is often its field errors in one line: then the list says it better.
  const detailIsFields =
    fields.length > 0 && fields.every((field) => error.detail?.includes(field) === true);
  const lines = [detailIsFields ? `phoenix: ${error.title}:` : `phoenix: ${error.message}`];
  for (const field of error.errors) lines.push(`  ${formatFieldError(field, colors)}`);
  if (error.status === 401 && tokenSource !== undefined) {
    lines.push(
      colors.dim(
        `  (the token from ${TOKEN_SOURCES[tokenSource]} was refused; \`phoenix login\` saves a working one)`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `repository.url: is required`; `phoenix.yml:3:5: build.timeout: ...` for a user's file. */
function formatFieldError(error: FieldError, colors: Colors): string {
  const inFile = error.location !== undefined && /:\d+:\d+$/.test(error.location);
  const where = [inFile ? error.location : undefined, error.field === '' ? undefined : error.field]
    .filter((part) => part !== undefined)
    .join(': ');
  return where === '' ? error.message : `${colors.bold(where)}: ${error.message}`;
}

/** Returns undefined, so that an action can `return printJson(answer)` (exit 0). */
export function printJson(value: unknown): undefined {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  return undefined;
}

/** A commander argument parser for whole numbers in a range. */
export function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return value;
  };
}
