import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { PhoenixError } from '../shared/errors.js';
import { phoenixHome } from '../shared/home.js';

/** Where `phoenix server` listens unless told otherwise. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8800';
/** Written by `phoenix login` below PHOENIX_HOME; it holds a token, so only its owner reads it. */
export const CLI_CONFIG_FILE = 'cli.json';
export const CLI_CONFIG_MODE = 0o600;
export const URL_ENV = 'PHOENIX_URL';
export const TOKEN_ENV = 'PHOENIX_TOKEN';

export type SettingSource = 'flag' | 'env' | 'file' | 'default';

/** `--url` and `--token` as given on the command line. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
}

/** Where the CLI talks to, and as whom. */
export interface Connection {
  url: string;
  token: string;
  urlSource: SettingSource;
  tokenSource: SettingSource;
}

const StoredCliConfigSchema = z
  .object({
    url: z.string().optional(),
    token: z.string().optional(),
    /** Who the token belonged to at login, for display only. */
    name: z.string().optional(),
    role: z.string().optional(),
  })
  .passthrough();

export type StoredCliConfig = z.infer<typeof StoredCliConfigSchema>;

/** The CLI's own settings are missing or malformed: a local usage error (exit 2). */
export class CliConfigError extends PhoenixError {
  readonly code = 'validation';
}

export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(phoenixHome(env), CLI_CONFIG_FILE);
}

/** The saved login, or undefined when there is none. Throws CliConfigError when malformed. */
export async function readCliConfig(path: string): Promise<StoredCliConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNodeError(error) && error.code === 'ENOENT') return undefined;
    throw new CliConfigError(`cannot read ${path}: ${String(error)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliConfigError(`${path} is not valid JSON; run \`phoenix login\` to rewrite it`, {
      cause: error,
    });
  }
  const parsed = StoredCliConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` at ${issue.path.join('.') || 'the top'}`;
    throw new CliConfigError(
      `${path}: unexpected content${where}; run \`phoenix login\` to rewrite it`,
    );
  }
  return parsed.data;
}

/**
 * Replaces the file atomically (a reader never sees half of it), readable by its owner only:
 * the temporary file is created 0600 before the token is written into it.
 */
export async function writeCliConfig(path: string, config: StoredCliConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, {
      mode: CLI_CONFIG_MODE,
      flag: 'wx',
    });
    await chmod(temporary, CLI_CONFIG_MODE);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The server URL: flag, then env, then the saved login, then the default. */
export function resolveServerUrl(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  stored: StoredCliConfig | undefined,
  storedPath: string,
): { url: string; source: SettingSource } {
  if (present(flags.url)) return { url: checkUrl(flags.url, '--url'), source: 'flag' };
  const fromEnv = env[URL_ENV];
  if (present(fromEnv)) return { url: checkUrl(fromEnv, URL_ENV), source: 'env' };
  if (present(stored?.url))
    return { url: checkUrl(stored.url, `${storedPath} url`), source: 'file' };
  return { url: DEFAULT_SERVER_URL, source: 'default' };
}

/**
 * Where to reach the server and with which token, each by the first of: `--url`/`--token`,
 * PHOENIX_URL/PHOENIX_TOKEN, the file `phoenix login` wrote, the default URL.
 * Throws CliConfigError naming all three ways to give a token when there is none.
 */
export async function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  const path = cliConfigPath(env);
  const stored = await readCliConfig(path);
  const { url, source: urlSource } = resolveServerUrl(flags, env, stored, path);
  const token = resolveToken(flags, env, stored, path);
  if (token === undefined) {
    throw new CliConfigError(
      `no API token: pass --token TOKEN, set ${TOKEN_ENV}, or run \`phoenix login\` (it saves the token in ${path})`,
    );
  }
  return { url, urlSource, token: token.token, tokenSource: token.source };
}

function resolveToken(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  stored: StoredCliConfig | undefined,
  storedPath: string,
): { token: string; source: SettingSource } | undefined {
  if (present(flags.token)) return { token: checkToken(flags.token, '--token'), source: 'flag' };
  const fromEnv = env[TOKEN_ENV];
  if (present(fromEnv)) return { token: checkToken(fromEnv, TOKEN_ENV), source: 'env' };
  if (present(stored?.token))
    return { token: checkToken(stored.token, `${storedPath} token`), source: 'file' };
  return undefined;
}

/** An http(s) URL without a trailing slash. */
export function checkUrl(text: string, origin: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new CliConfigError(`${origin} "${text}" is not a URL such as ${DEFAULT_SERVER_URL}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    const guess = text.includes('//') ? '' : ` (http://${text}?)`;
    throw new CliConfigError(`${origin} "${text}" must start with http:// or https://${guess}`);
  }
  if (parsed.username !== '' || parsed.password !== '')
    throw new CliConfigError(`${origin} must not contain credentials: give the token separately`);
  return parsed.href.replace(/\/+$/, '');
}

/** Tokens go into an HTTP header: whitespace or control characters there are a mistake. */
export function checkToken(token: string, origin: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\s\u0000-\u001f\u007f]/.test(token))
    throw new CliConfigError(`${origin}: the token must not contain spaces or control characters`);
  return token;
}

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
