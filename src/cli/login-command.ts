import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import pc from 'picocolors';
import { ApiClient, ApiError, ServerUnreachableError } from './api-client.js';
import type { Identity } from './api-types.js';
import { formatFailure, printJson } from './api-command.js';
import {
  checkToken,
  CliConfigError,
  cliConfigPath,
  DEFAULT_SERVER_URL,
  readCliConfig,
  resolveServerUrl,
  TOKEN_ENV,
  URL_ENV,
  writeCliConfig,
  type StoredCliConfig,
} from './cli-config.js';

interface LoginOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('check an API token with the server, then save it and the URL for later commands')
    .option(
      '--url <url>',
      `Phoenix server (default: ${URL_ENV}, the saved one, ${DEFAULT_SERVER_URL})`,
    )
    .option(
      '--token <token>',
      `API token; "-" reads it from stdin (default: ${TOKEN_ENV}, else asked for on a terminal)`,
    )
    .option('--json', 'print who the token belongs to as JSON')
    .action(async (options: LoginOptions) => {
      process.exitCode = await login(options);
    });
}

async function login(options: LoginOptions): Promise<number> {
  const path = cliConfigPath();
  const stored = await readSavedLogin(path);
  const { url } = resolveServerUrl({ url: options.url }, process.env, stored, path);
  const token = checkToken(await tokenFrom(options.token), 'the token');
  const client = new ApiClient({ url, token });
  let me: Identity;
  try {
    me = await client.me();
  } catch (error) {
    if (!(error instanceof ApiError) && !(error instanceof ServerUnreachableError)) throw error;
    process.stderr.write(formatFailure(error));
    return 1;
  }
  await writeCliConfig(path, { url, token, name: me.name, role: me.role });
  if (options.json) {
    printJson(me);
  } else {
    process.stdout.write(`Logged in to ${pc.bold(url)} as ${pc.bold(me.name)} (${me.role})\n`);
    process.stdout.write(pc.dim(`Saved in ${path}\n`));
  }
  for (const name of [URL_ENV, TOKEN_ENV]) {
    if (process.env[name])
      process.stderr.write(`${pc.yellow('note:')} ${name} is set and wins over the saved login\n`);
  }
  return 0;
}

/** A malformed file is what login replaces, so it is no reason to refuse. */
async function readSavedLogin(path: string): Promise<StoredCliConfig | undefined> {
  try {
    return await readCliConfig(path);
  } catch (error) {
    if (error instanceof CliConfigError) return undefined;
    throw error;
  }
}

async function tokenFrom(option: string | undefined): Promise<string> {
  if (option === '-') return firstLine(await readStdin());
  if (option !== undefined && option !== '') return option;
  const fromEnv = process.env[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (process.stdin.isTTY) return firstLine(await askHidden('API token: '));
  throw new CliConfigError(
    `no token to log in with: pass --token TOKEN, --token - to read it from stdin, or set ${TOKEN_ENV}`,
  );
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((candidate) => candidate.trim() !== '');
  if (line === undefined) throw new CliConfigError('no token: the input was empty');
  return line.trim();
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal without echoing what is typed: a token is a password. */
async function askHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: process.stdin, output: silent, terminal: true });
  try {
    return await prompt.question('');
  } finally {
    prompt.close();
    process.stderr.write('\n');
  }
}
