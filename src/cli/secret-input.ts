import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { PhoenixError } from '../shared/errors.js';

/** No value to set: a local usage error (exit 2), before anything is sent. */
export class SecretInputError extends PhoenixError {
  readonly code = 'validation';
}

export interface SecretInputOptions {
  /** `--value-file`: read from this file instead of stdin. */
  valueFile?: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the prompt goes on a terminal: stderr, so stdout stays for output. */
  prompt: NodeJS.WritableStream;
  /** For the prompt and messages. */
  name: string;
}

/**
 * A secret's value, from `--value-file`, from piped stdin, or typed at a terminal without
 * echo: never from the command line, where it would land in shell history and `ps`. One
 * trailing newline (what `echo` and editors add) is dropped; anything else is kept as is.
 */
export async function readSecretValue(options: SecretInputOptions): Promise<string> {
  const raw =
    options.valueFile !== undefined
      ? await readValueFile(options.valueFile)
      : options.stdin.isTTY === true
        ? await askHidden(options, `value of ${options.name} (not shown): `)
        : await readAll(options.stdin);
  const value = raw.replace(/\r?\n$/, '');
  if (value === '') {
    const from = options.valueFile ?? 'stdin';
    throw new SecretInputError(`no value for ${options.name}: ${from} was empty`);
  }
  return value;
}

async function readValueFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new SecretInputError(`cannot read --value-file ${path}`, { cause: error });
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** One line, read without echoing what is typed. */
async function askHidden(options: SecretInputOptions, question: string): Promise<string> {
  options.prompt.write(question);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: options.stdin, output: silent, terminal: true });
  try {
    return await prompt.question('');
  } finally {
    prompt.close();
    options.prompt.write('\n');
  }
}
