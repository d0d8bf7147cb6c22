import { describe, expect, it } from 'vitest';
import { instanceEnvironment } from './instance-env.js';

describe('instanceEnvironment', () => {
  it('passes allowlisted host variables, the request, then identity nobody overrides', () => {
    const env = instanceEnvironment(
      { PATH: '/bin', HOME: '/home/app', AWS_SECRET_ACCESS_KEY: 'secret', LANG: 'C.UTF-8' },
      {
        service: 'shop',
        environment: 'prod',
        releaseId: 'r7',
        portEnv: 'HTTP_PORT',
        env: { GREETING: 'hi', PHOENIX_SERVICE: 'spoofed', PHOENIX_INSTANCE_ID: 'spoofed' },
      },
      { id: 'i-1', index: 2, port: 20_001 },
    );

    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/home/app',
      LANG: 'C.UTF-8',
      GREETING: 'hi',
      HTTP_PORT: '20001',
      PHOENIX_SERVICE: 'shop',
      PHOENIX_ENVIRONMENT: 'prod',
      PHOENIX_RELEASE: 'r7',
      PHOENIX_INSTANCE: '2',
      PHOENIX_INSTANCE_ID: 'i-1',
    });
  });

  it('gives a default PATH when the host has none', () => {
    const env = instanceEnvironment(
      {},
      { service: 's', environment: 'e', releaseId: 'r', portEnv: 'PORT', env: {} },
      { id: 'i', index: 0, port: 1 },
    );

    expect(env['PATH']).toMatch(/\/usr\/bin/);
  });
});
