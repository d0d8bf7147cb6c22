import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { ConflictError, NotFoundError, PlatformError } from '../shared/errors.js';
import { ListenerRegistry, listenerRegistryPath } from './listener-registry.js';

describe('ListenerRegistry', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;

  beforeEach(() => {
    dir = tempDir('phoenix-listeners-');
    path = listenerRegistryPath(dir.path);
  });

  afterEach(() => dir.remove());

  it('names the listeners after the service and environment, and keeps them across a restart', () => {
    const registry = ListenerRegistry.open(path);

    const recorded = registry.record('shop', 'dev', { production: 18_080, test: 18_081 });
    registry.record('shop', 'prod', { production: 8080 });
    const reopened = ListenerRegistry.open(path);

    expect(recorded).toEqual({
      production: { name: 'shop-dev', port: 18_080 },
      test: { name: 'shop-dev-test', port: 18_081 },
    });
    expect(reopened.listenersFor('shop', 'dev')).toEqual(recorded);
    expect(reopened.listenersFor('shop', 'prod')).toEqual({
      production: { name: 'shop-prod', port: 8080 },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir.path)).toEqual(['listeners.json']);
  });

  it('replaces what an environment had when phoenix.yml changes its ports', () => {
    const registry = ListenerRegistry.open(path);
    registry.record('shop', 'dev', { production: 18_080, test: 18_081 });

    registry.record('shop', 'dev', { production: 18_090 });

    expect(ListenerRegistry.open(path).ports('shop', 'dev')).toEqual({ production: 18_090 });
  });

  it.each([
    [{ production: 18_080 }, 'port 18080 is already the production listener of shop dev'],
    [{ production: 9000, test: 18_081 }, 'port 18081 is already the test listener of shop dev'],
  ])('refuses a port another environment holds, writing nothing: %j', (ports, message) => {
    const registry = ListenerRegistry.open(path);
    registry.record('shop', 'dev', { production: 18_080, test: 18_081 });
    const before = readFileSync(path, 'utf8');

    expect(() => registry.record('cart', 'dev', ports)).toThrow(new ConflictError(message));
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(registry.ports('cart', 'dev')).toBeUndefined();
  });

  it('says what to do for an environment it knows nothing of', () => {
    expect(() => ListenerRegistry.open(path).listenersFor('shop', 'dev')).toThrow(
      new NotFoundError(
        'no listeners are recorded for shop dev: deploy it with listeners in phoenix.yml',
      ),
    );
  });

  it('refuses a damaged file rather than forgetting where traffic goes', () => {
    writeFileSync(path, '{"version": 1, "listeners": [{"service": "shop"}]}');

    expect(() => ListenerRegistry.open(path)).toThrow(PlatformError);
    expect(() => ListenerRegistry.open(path)).toThrow(/listener registry .* is damaged/);
  });

  it('lists every environment, by service then environment', () => {
    const registry = ListenerRegistry.open(path);
    registry.record('shop', 'prod', { production: 8080 });
    registry.record('cart', 'dev', { production: 9080 });
    registry.record('shop', 'dev', { production: 18_080 });

    expect(
      ListenerRegistry.open(path)
        .list()
        .map((e) => `${e.service}/${e.environment}`),
    ).toEqual(['cart/dev', 'shop/dev', 'shop/prod']);
  });
});
