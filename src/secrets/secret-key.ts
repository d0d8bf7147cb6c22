import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createOnce } from '../shared/create-once.js';
import { PlatformError } from '../shared/errors.js';
import { SECRET_KEY_BYTES } from './secret-box.js';

/** A base64 key here wins over the key file, which is then neither read nor created. */
export const SECRETS_KEY_ENV = 'PHOENIX_SECRETS_KEY';
const KEY_FILE = 'secrets.key';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Bits of a file's mode that let anyone but its owner in. */
const GROUP_OR_OTHER = 0o077;

/** The key cannot be used: Phoenix refuses to start rather than run without its secrets. */
export class SecretKeyError extends PlatformError {}

export interface SecretKey {
  bytes: Buffer;
  /** `env`: PHOENIX_SECRETS_KEY; `file`: read from `path`; `created`: written to `path` now. */
  source: 'env' | 'file' | 'created';
  /** The key file, unless the key came from the environment. */
  path?: string;
}

/** `<PHOENIX_HOME>/secrets.key`: back it up with phoenix.db; without it, no secret opens. */
export function secretKeyPath(home: string): string {
  return join(home, KEY_FILE);
}

/**
 * The key that seals Phoenix's secrets: from PHOENIX_SECRETS_KEY (base64) when set, else
 * from `<home>/secrets.key`, created at first start (32 random bytes, base64, mode 0600).
 * Creation is exclusive: the key is written and synced to a temp file opened with O_EXCL,
 * then linked into place, which fails with EEXIST when another process got there first
 * (its key is read instead), so two servers starting at once agree on one key and a
 * reader never sees a half-written file. Throws SecretKeyError, naming the file or the
 * variable, for a key file readable by group or others, or a key of the wrong length.
 */
export async function ensureSecretKey(options: {
  home: string;
  /** PHOENIX_SECRETS_KEY's value; undefined or empty when unset. */
  fromEnv?: string;
}): Promise<SecretKey> {
  if (options.fromEnv !== undefined && options.fromEnv !== '') {
    return { bytes: decodeKey(options.fromEnv, SECRETS_KEY_ENV), source: 'env' };
  }
  const path = secretKeyPath(options.home);
  const bytes = randomBytes(SECRET_KEY_BYTES);
  try {
    if (await createOnce(path, `${bytes.toString('base64')}\n`)) {
      return { bytes, source: 'created', path };
    }
  } catch (error) {
    throw new SecretKeyError(`cannot create the secrets key ${path}`, { cause: error });
  }
  return { bytes: await readKeyFile(path), source: 'file', path };
}

/** Checks the mode of the file it opened (not of whatever the path names a moment later). */
async function readKeyFile(path: string): Promise<Buffer> {
  let text: string;
  try {
    const file = await open(path, 'r');
    try {
      const { mode } = await file.stat();
      if ((mode & GROUP_OR_OTHER) !== 0) {
        const octal = (mode & 0o777).toString(8).padStart(4, '0');
        throw new SecretKeyError(
          `the secrets key ${path} has group or other permissions (mode ${octal}); it must be 0600: run \`chmod 600 ${path}\` and start again`,
        );
      }
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    if (error instanceof SecretKeyError) throw error;
    throw new SecretKeyError(`cannot read the secrets key ${path}`, { cause: error });
  }
  return decodeKey(text, path);
}

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const bytes = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (
    bytes === undefined ||
    bytes.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')
  ) {
    throw new SecretKeyError(
      `the secrets key in ${where} is not base64: make one with \`openssl rand -base64 ${SECRET_KEY_BYTES}\``,
    );
  }
  if (bytes.length !== SECRET_KEY_BYTES) {
    throw new SecretKeyError(
      `the secrets key in ${where} is ${bytes.length} bytes long; it must be ${SECRET_KEY_BYTES} (\`openssl rand -base64 ${SECRET_KEY_BYTES}\`)`,
    );
  }
  return bytes;
}
