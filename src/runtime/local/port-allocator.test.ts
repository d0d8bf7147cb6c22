import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isPortFree, RangePortAllocator } from './port-allocator.js';

describe('RangePortAllocator', () => {
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers.length = 0;
  });

  async function occupiedPort(): Promise<number> {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  it('skips ports that are taken by instances or bound by anyone', async () => {
    const bound = await occupiedPort();
    const allocator = new RangePortAllocator({ first: bound, last: bound + 2 });

    const ports = [
      await allocator.allocate(new Set([bound + 1])),
      await allocator.allocate(new Set([bound + 1])),
    ];

    expect(await isPortFree(bound)).toBe(false);
    expect(ports).toEqual([bound + 2, bound + 2]);
  });

  it('fails when the range is exhausted', async () => {
    const bound = await occupiedPort();
    const allocator = new RangePortAllocator({ first: bound, last: bound });

    await expect(allocator.allocate(new Set())).rejects.toThrow(/no free port/);
  });
});
