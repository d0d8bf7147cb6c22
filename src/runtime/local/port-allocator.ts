import { createServer } from 'node:net';
import { PlatformError } from '../../shared/errors.js';

/** Picks the port of a new instance. */
export interface PortAllocator {
  /** A port free right now on 127.0.0.1 and not in `taken` (the ports other instances hold). */
  allocate(taken: ReadonlySet<number>): Promise<number>;
}

export const DEFAULT_PORT_RANGE = { first: 20_000, last: 29_999 } as const;

/**
 * Walks a range from a cursor that keeps moving, so a port freed by a stopped instance is not
 * handed out again at once (a router may still hold it as a target for a moment). The cursor
 * starts at a random place so that two runtimes on one machine rarely race for a port.
 * A port is free when binding 127.0.0.1 to it succeeds; binding fails too when another
 * process listens on the wildcard address.
 */
export class RangePortAllocator implements PortAllocator {
  private cursor: number;

  constructor(private readonly range: { first: number; last: number } = DEFAULT_PORT_RANGE) {
    if (range.first < 1 || range.last > 65_535 || range.first > range.last) {
      throw new RangeError(`invalid port range ${range.first}-${range.last}`);
    }
    this.cursor = Math.floor(Math.random() * this.size());
  }

  async allocate(taken: ReadonlySet<number>): Promise<number> {
    for (let tried = 0; tried < this.size(); tried++) {
      const port = this.range.first + this.cursor;
      this.cursor = (this.cursor + 1) % this.size();
      if (taken.has(port)) continue;
      if (await isPortFree(port)) return port;
    }
    throw new PlatformError(`no free port in ${this.range.first}-${this.range.last}`);
  }

  private size(): number {
    return this.range.last - this.range.first + 1;
  }
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
