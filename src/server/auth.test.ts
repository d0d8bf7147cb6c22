import { describe, expect, it } from 'vitest';
import type { TokenRole } from '../store/token-repository.js';
import { hasRole, tokenFromAuthorization, type RequiredRole } from './auth.js';

const basic = (credentials: string): string =>
  `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('tokenFromAuthorization', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer phx_abc', 'phx_abc'],
    ['bearer phx_abc', 'phx_abc'],
    ['Bearer  phx_abc ', 'phx_abc'],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [basic('alice:phx_abc'), 'phx_abc'],
    [basic(':phx_abc'), 'phx_abc'],
    [basic('alice:pass:with:colons'), 'pass:with:colons'],
    [basic('alice:'), undefined],
    [basic('phx_abc'), undefined],
    ['Digest username="x"', undefined],
    ['Token phx_abc', undefined],
  ])('%j → %j', (header, token) => {
    expect(tokenFromAuthorization(header)).toBe(token);
  });
});

describe('hasRole', () => {
  it.each<[TokenRole, RequiredRole, boolean]>([
    ['viewer', 'viewer', true],
    ['viewer', 'developer', false],
    ['viewer', 'admin', false],
    ['approver', 'viewer', true],
    ['approver', 'developer', false],
    ['developer', 'viewer', true],
    ['developer', 'developer', true],
    ['developer', 'admin', false],
    ['admin', 'viewer', true],
    ['admin', 'developer', true],
    ['admin', 'admin', true],
  ])('%s for %s: %s', (role, required, allowed) => {
    expect(hasRole(role, required)).toBe(allowed);
  });
});
