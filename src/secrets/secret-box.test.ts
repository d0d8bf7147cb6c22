import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../shared/errors.js';
import type { SealedValue, SecretAddress } from './secret.js';
import {
  IV_BYTES,
  openValue,
  sealValue,
  SECRET_KEY_BYTES,
  SecretDecryptionError,
  TAG_BYTES,
} from './secret-box.js';

const KEY = Buffer.alloc(SECRET_KEY_BYTES, 7);
const OTHER_KEY = Buffer.alloc(SECRET_KEY_BYTES, 8);
const ADDRESS: SecretAddress = { name: 'prod/db', scope: 'shop', environment: 'prod' };

function flipped(buffer: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe('sealValue / openValue', () => {
  it.each([
    ['a password', 's3cr3t-p4ss'],
    ['unicode', 'pässwörd-🔑'],
    ['a multi-line key', '-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n'],
    ['an empty string', ''],
    ['64 KiB', 'x'.repeat(64 * 1024)],
  ])('round-trips %s', (_name, value) => {
    const sealed = sealValue(KEY, ADDRESS, value);

    expect(openValue(KEY, ADDRESS, sealed)).toBe(value);
    expect(sealed.iv).toHaveLength(IV_BYTES);
    expect(sealed.tag).toHaveLength(TAG_BYTES);
    expect(sealed.ciphertext).toHaveLength(Buffer.byteLength(value));
  });

  it('uses a fresh IV per value, so equal values never look equal', () => {
    const first = sealValue(KEY, ADDRESS, 'same-value');
    const second = sealValue(KEY, ADDRESS, 'same-value');

    expect(first.iv.equals(second.iv)).toBe(false);
    expect(first.ciphertext.equals(second.ciphertext)).toBe(false);
  });

  const sealed = sealValue(KEY, ADDRESS, 's3cr3t-p4ss');
  it.each<[string, Buffer, SecretAddress, SealedValue]>([
    [
      'a flipped ciphertext bit',
      KEY,
      ADDRESS,
      { ...sealed, ciphertext: flipped(sealed.ciphertext) },
    ],
    ['a flipped tag bit', KEY, ADDRESS, { ...sealed, tag: flipped(sealed.tag, TAG_BYTES - 1) }],
    ['a truncated tag', KEY, ADDRESS, { ...sealed, tag: sealed.tag.subarray(0, 12) }],
    ['another IV', KEY, ADDRESS, { ...sealed, iv: flipped(sealed.iv) }],
    ['a short IV', KEY, ADDRESS, { ...sealed, iv: sealed.iv.subarray(0, 8) }],
    ['another key', OTHER_KEY, ADDRESS, sealed],
    ['another name', KEY, { ...ADDRESS, name: 'prod/api' }, sealed],
    ['another service', KEY, { ...ADDRESS, scope: 'billing' }, sealed],
    ['all services', KEY, { ...ADDRESS, scope: '*' }, sealed],
    ['another environment', KEY, { ...ADDRESS, environment: 'dev' }, sealed],
    ['every environment', KEY, { name: ADDRESS.name, scope: ADDRESS.scope }, sealed],
    ['a name with the scope moved into it', KEY, { name: 'shop/prod/db', scope: '*' }, sealed],
  ])('refuses %s with SecretDecryptionError', (_name, key, address, tampered) => {
    const open = () => openValue(key, address, tampered);

    expect(open).toThrow(SecretDecryptionError);
    expect(open).toThrow(/prod\/\w+ \(.*\) cannot be decrypted/);
  });

  it('says where the secret is, never what it holds', () => {
    const error = (() => {
      try {
        openValue(OTHER_KEY, ADDRESS, sealed);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect(String(error)).toContain('prod/db (service shop, environment prod)');
    expect(String(error)).not.toContain('s3cr3t');
  });

  it.each([16, 31, 33])('refuses a %i-byte key', (bytes) => {
    expect(() => sealValue(randomBytes(bytes), ADDRESS, 'value')).toThrow(PlatformError);
    expect(() => openValue(randomBytes(bytes), ADDRESS, sealed)).toThrow(PlatformError);
  });
});
