import { connect } from 'node:net';
import { RangePortAllocator } from '../../src/runtime/local/port-allocator.js';

/**
 * Hands out ports free on 127.0.0.1, from the local runtime's range (20000–29999), outside
 * Linux's ephemeral range (32768–60999 by default). A port taken from the ephemeral range
 * could be given to one of the load generator's outgoing connections while its listener is
 * down for a restart, and the restart would then fail with EADDRINUSE.
 */
export class BenchPorts {
  private readonly allocator = new RangePortAllocator();
  private readonly taken = new Set<number>();

  async next(): Promise<number> {
    const port = await this.allocator.allocate(this.taken);
    this.taken.add(port);
    return port;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
