import { describe, expect, it } from 'vitest';
import { ValidationError } from '../shared/errors.js';
import type { Service } from '../store/service-repository.js';
import { payloadRepository, repositoryKey, servicesFor } from './webhook-match.js';

function external(name: string, url: string): Service {
  return { name, repository: { kind: 'external', url }, defaultBranch: 'main', createdAt: '' };
}

describe('repositoryKey', () => {
  it.each([
    ['https://github.com/Acme/Shop.git', 'github.com/acme/shop'],
    ['https://github.com/acme/shop', 'github.com/acme/shop'],
    ['https://github.com/acme/shop/', 'github.com/acme/shop'],
    ['https://ci:secret@github.com/acme/shop.git', 'github.com/acme/shop'],
    ['http://github.com/acme/shop.git', 'github.com/acme/shop'],
    ['ssh://git@github.com:22/acme/shop.git', 'github.com/acme/shop'],
    ['git://github.com/acme/shop.git', 'github.com/acme/shop'],
    ['git@github.com:acme/shop.git', 'github.com/acme/shop'],
    ['git@ghe.corp.example:team/sub/shop.git', 'ghe.corp.example/team/sub/shop'],
    ['/srv/git/shop.git', undefined],
    ['file:///srv/git/shop.git', undefined],
    ['https://github.com/', undefined],
    ['not a url', undefined],
  ])('%s → %s', (url, key) => {
    expect(repositoryKey(url)).toBe(key);
  });
});

describe('servicesFor', () => {
  const services = [
    external('shop', 'git@github.com:acme/shop.git'),
    external('shop-worker', 'https://github.com/acme/shop'),
    external('billing', 'https://github.com/acme/billing.git'),
    external('mirror', 'https://git.internal.example/mirrors/acme/shop.git'),
    { ...external('hosted', ''), repository: { kind: 'hosted' as const, path: '/srv/shop.git' } },
  ];

  it('finds every service built from the repository, by URL or owner/name', () => {
    const found = servicesFor(services, {
      fullName: 'Acme/Shop',
      urls: ['https://github.com/Acme/Shop.git', 'git@github.com:Acme/Shop.git'],
    });

    expect(found.map((service) => service.name)).toEqual(['shop', 'shop-worker', 'mirror']);
  });

  it('finds none for another repository', () => {
    expect(
      servicesFor(services, { fullName: 'acme/web', urls: ['https://github.com/acme/web.git'] }),
    ).toEqual([]);
  });

  it('does not take a longer name ending in the same words', () => {
    const found = servicesFor([external('x', 'https://github.com/acme/myshop.git')], {
      fullName: 'acme/shop',
      urls: [],
    });

    expect(found).toEqual([]);
  });
});

describe('payloadRepository', () => {
  it('reads JSON and form-encoded deliveries', () => {
    const json = JSON.stringify({
      repository: { full_name: 'a/b', clone_url: 'https://x/a/b.git' },
    });

    expect(payloadRepository(Buffer.from(json))).toEqual({
      fullName: 'a/b',
      urls: ['https://x/a/b.git'],
    });
    expect(payloadRepository(Buffer.from(`payload=${encodeURIComponent(json)}`))).toEqual({
      fullName: 'a/b',
      urls: ['https://x/a/b.git'],
    });
  });

  it('says when there is no repository, and refuses what is not JSON', () => {
    expect(payloadRepository(Buffer.from('{"zen":"x"}'))).toBeUndefined();
    expect(() => payloadRepository(Buffer.from('{'))).toThrow(ValidationError);
  });
});
