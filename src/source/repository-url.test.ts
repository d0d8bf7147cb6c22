import { describe, expect, it } from 'vitest';
import { redactRepositoryUrl, validateRepositoryUrl } from './repository-url.js';

describe('validateRepositoryUrl', () => {
  it.each([
    'https://github.com/acme/shop.git',
    'https://x-access-token:ghp_abc@github.com/acme/shop.git',
    'http://127.0.0.1:8080/git/shop.git',
    'ssh://git@github.com/acme/shop.git',
    'ssh://git@example.com:2222/srv/shop.git',
    'git@github.com:acme/shop.git',
    'deploy@git.example.com:shop.git',
    'file:///srv/git/shop.git',
    '/srv/git/shop.git',
  ])('accepts %j', (url) => {
    expect(validateRepositoryUrl(url)).toBeUndefined();
  });

  it.each([
    '',
    '-uhttps://example.com/x.git',
    '--upload-pack=touch /tmp/pwned',
    'ext::sh -c touch% /tmp/pwned',
    'ext::sh',
    'fd::17',
    'ssh://-oProxyCommand=touch%20x/x.git',
    'ssh://-oProxyCommand=x@host/x.git',
    'git@host:-x',
    '-git@host:x',
    'relative/path.git',
    './shop.git',
    '../shop.git',
    'ftp://example.com/shop.git',
    'git://example.com/shop.git',
    'https://',
    'https://example.com/a b.git',
    'https://example.com/a\n.git',
    '/srv/a\u0000b',
    '/srv/x::y',
    'host:path',
  ])('refuses %j', (url) => {
    expect(validateRepositoryUrl(url)).toBeDefined();
  });
});

describe('redactRepositoryUrl', () => {
  it.each([
    ['https://user:secret@github.com/a/b.git', 'https://***@github.com/a/b.git'],
    ['https://ghp_token@github.com/a/b.git', 'https://***@github.com/a/b.git'],
    ['https://github.com/a/b.git', 'https://github.com/a/b.git'],
    ['/srv/a@b.git', '/srv/a@b.git'],
  ])('%j reads %j', (url, expected) => {
    expect(redactRepositoryUrl(url)).toBe(expected);
  });
});
