import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PlatformError } from '../shared/errors.js';
import { describeSecret, type SealedValue, type SecretAddress } from './secret.js';

/**
 * AES-256-GCM over one secret value. The secret's address (scope, environment, name) is
 * the additional authenticated data: a stored row copied or renamed to another address
 * fails to open instead of handing its value to the wrong service or environment.
 * Functions of their arguments (and fresh random IVs); no state, no I/O.
 */

export const SECRET_KEY_BYTES = 32;
/** GCM's recommended IV length; a fresh random one per value, never reused with a key. */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
/** Bumped if the AAD's layout ever changes, so that old rows fail loudly instead of oddly. */
const AAD_VERSION = 'phoenix-secret-v1';

/** A stored value that does not open: tampered with, moved to another address, or sealed with another key. */
export class SecretDecryptionError extends PlatformError {
  constructor(
    readonly address: SecretAddress,
    options?: { cause?: unknown },
  ) {
    super(
      `secret ${describeSecret(address)} cannot be decrypted: it was changed outside Phoenix, or sealed with another secrets key`,
      options,
    );
  }
}

export function sealValue(key: Buffer, address: SecretAddress, value: string): SealedValue {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(address));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag() };
}

/** The value; throws SecretDecryptionError when the ciphertext, IV, tag, address or key do not match. */
export function openValue(key: Buffer, address: SecretAddress, sealed: SealedValue): string {
  checkKey(key);
  // Node accepts shorter GCM tags unless told the length; a truncated tag is a forgery aid.
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new SecretDecryptionError(address);
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(address));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new SecretDecryptionError(address, { cause: error });
  }
}

/** JSON: unambiguous whatever the parts contain, so no two addresses share one AAD. */
function additionalData(address: SecretAddress): Buffer {
  return Buffer.from(
    JSON.stringify([AAD_VERSION, address.scope, address.environment ?? null, address.name]),
    'utf8',
  );
}

function checkKey(key: Buffer): void {
  if (key.length !== SECRET_KEY_BYTES) {
    throw new PlatformError(`a secrets key is ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
  }
}
