import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CLI_CONFIG_FILE,
  CliConfigError,
  DEFAULT_SERVER_URL,
  readCliConfig,
  resolveConnection,
  writeCliConfig,
  type ConnectionFlags,
} from './cli-config.js';

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'phoenix-cli-config-'));
});

afterEach(() => rmSync(home, { recursive: true, force: true }));

function saveLogin(content: Record<string, string>): void {
  writeFileSync(join(home, CLI_CONFIG_FILE), JSON.stringify(content), { mode: 0o600 });
}

describe('resolveConnection', () => {
  const flags = { url: 'http://flag.test:1', token: 'phx_flag' };
  const env = { PHOENIX_URL: 'http://env.test:2', PHOENIX_TOKEN: 'phx_env' };
  const file = { url: 'http://file.test:3', token: 'phx_file' };

  it.each([
    { given: 'flags, env and file', flags, env, file, url: flags.url, token: flags.token },
    { given: 'env and file', flags: {}, env, file, url: env.PHOENIX_URL, token: env.PHOENIX_TOKEN },
    { given: 'the file only', flags: {}, env: {}, file, url: file.url, token: file.token },
    {
      given: 'a token flag, a URL from the file',
      flags: { token: 'phx_flag' },
      env: {},
      file,
      url: file.url,
      token: 'phx_flag',
    },
    {
      given: 'a token from env, no URL anywhere',
      flags: {},
      env: { PHOENIX_TOKEN: 'phx_env' },
      file: undefined,
      url: DEFAULT_SERVER_URL,
      token: 'phx_env',
    },
    {
      given: 'empty env values (treated as unset)',
      flags: {},
      env: { PHOENIX_URL: '', PHOENIX_TOKEN: '' },
      file,
      url: file.url,
      token: file.token,
    },
  ])('with $given: $url, $token', async (row) => {
    if (row.file !== undefined) saveLogin(row.file);

    const connection = await resolveConnection(row.flags satisfies ConnectionFlags, {
      ...row.env,
      PHOENIX_HOME: home,
    });

    expect(connection).toMatchObject({ url: row.url, token: row.token });
  });

  it('says where each setting came from', async () => {
    saveLogin({ token: 'phx_file' });

    const connection = await resolveConnection({}, { PHOENIX_HOME: home });

    expect(connection).toEqual({
      url: DEFAULT_SERVER_URL,
      urlSource: 'default',
      token: 'phx_file',
      tokenSource: 'file',
    });
  });

  it('names the three ways to give a token when there is none', async () => {
    const error = await resolveConnection({}, { PHOENIX_HOME: home }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(CliConfigError);
    expect((error as Error).message).toBe(
      `no API token: pass --token TOKEN, set PHOENIX_TOKEN, or run \`phoenix login\` (it saves the token in ${join(home, CLI_CONFIG_FILE)})`,
    );
  });

  it.each([
    ['not a URL', { url: 'http//x' }, '--url "http//x" is not a URL such as http://127.0.0.1:8800'],
    [
      'a URL without its scheme',
      { url: 'localhost:8800' },
      '--url "localhost:8800" must start with http:// or https:// (http://localhost:8800?)',
    ],
    ['another scheme', { url: 'ftp://host' }, 'must start with http:// or https://'],
    ['credentials', { url: 'http://u:p@host' }, 'must not contain credentials'],
    ['a token with a space', { token: 'phx_a b' }, 'must not contain spaces'],
  ])('refuses %s', async (_name, given, message) => {
    const error = await resolveConnection(
      { token: 'phx_ok', ...given },
      { PHOENIX_HOME: home },
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CliConfigError);
    expect((error as Error).message).toContain(message);
  });

  it('normalises the URL without a trailing slash', async () => {
    const connection = await resolveConnection(
      { url: 'https://ci.example.com/phoenix/', token: 'phx_ok' },
      { PHOENIX_HOME: home },
    );

    expect(connection.url).toBe('https://ci.example.com/phoenix');
  });

  it('names a malformed login file', async () => {
    writeFileSync(join(home, CLI_CONFIG_FILE), '{"token": ');

    const error = await resolveConnection({}, { PHOENIX_HOME: home }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(CliConfigError);
    expect((error as Error).message).toBe(
      `${join(home, CLI_CONFIG_FILE)} is not valid JSON; run \`phoenix login\` to rewrite it`,
    );
  });
});

describe('writeCliConfig', () => {
  it('writes a file only its owner can read, creating PHOENIX_HOME', async () => {
    const path = join(home, 'nested', CLI_CONFIG_FILE);

    await writeCliConfig(path, { url: 'http://127.0.0.1:8800', token: 'phx_secret' });

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'nested')).mode & 0o777).toBe(0o700);
    expect(await readCliConfig(path)).toEqual({
      url: 'http://127.0.0.1:8800',
      token: 'phx_secret',
    });
  });

  it('replaces a file that others could read with one they cannot', async () => {
    const path = join(home, CLI_CONFIG_FILE);
    writeFileSync(path, '{"token":"old"}', { mode: 0o644 });

    await writeCliConfig(path, { token: 'phx_new' });

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ token: 'phx_new' });
  });

  it('reads no file as no login', async () => {
    expect(await readCliConfig(join(home, CLI_CONFIG_FILE))).toBeUndefined();
  });
});
