import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { readSecretValue, SecretInputError } from './secret-input.js';

describe('readSecretValue', () => {
  let dir: ReturnType<typeof tempDir>;
  let prompt: PassThrough;

  beforeEach(() => {
    dir = tempDir('phoenix-secret-input-');
    prompt = new PassThrough();
  });

  afterEach(() => dir.remove());

  function piped(text: string) {
    return Readable.from([Buffer.from(text)]);
  }

  it.each([
    ['s3cr3t-value\n', 's3cr3t-value'],
    ['s3cr3t-value\r\n', 's3cr3t-value'],
    ['s3cr3t-value', 's3cr3t-value'],
    ['two\nlines\n\n', 'two\nlines\n'],
    ['  spaced  \n', '  spaced  '],
  ])('reads piped stdin %j as %j', async (input, value) => {
    const read = await readSecretValue({ name: 'DB', stdin: piped(input), prompt });

    expect(read).toBe(value);
    expect(prompt.read()).toBeNull();
  });

  it('reads --value-file instead of stdin', async () => {
    const file = join(dir.path, 'value');
    writeFileSync(file, '-----BEGIN KEY-----\nabc\n-----END KEY-----\n');

    const read = await readSecretValue({
      name: 'KEY',
      valueFile: file,
      stdin: piped('not this'),
      prompt,
    });

    expect(read).toBe('-----BEGIN KEY-----\nabc\n-----END KEY-----');
  });

  it.each<[string, { stdin?: string; file?: string }, string | RegExp]>([
    ['empty stdin', { stdin: '' }, 'no value for DB: stdin was empty'],
    ['a bare newline', { stdin: '\n' }, 'no value for DB: stdin was empty'],
    ['a missing file', { file: 'missing' }, /^cannot read --value-file .*missing$/],
  ])('refuses %s', async (_name, source, message) => {
    const failure = await readSecretValue({
      name: 'DB',
      stdin: piped(source.stdin ?? ''),
      prompt,
      ...(source.file === undefined ? {} : { valueFile: join(dir.path, source.file) }),
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SecretInputError);
    expect(failure).toMatchObject({
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
  });
});
