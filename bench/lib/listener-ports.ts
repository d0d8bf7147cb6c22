import { RangePortAllocator } from '../../src/runtime/local/port-allocator.js';

/**
 * Listener ports come from 30000–32767: outside the local runtime's instance range
 * (20000–29999), so the server cannot give one to an instance before the router binds it,
 * and outside Linux's ephemeral range (32768–60999), so no outgoing connection holds one.
 */
const LISTENER_RANGE = { first: 30_000, last: 32_767 } as const;

/** `count` distinct ports free on 127.0.0.1 now, for phoenix.yml's listeners. */
export async function freeListenerPorts(count: number): Promise<number[]> {
  const allocator = new RangePortAllocator(LISTENER_RANGE);
  const taken = new Set<number>();
  for (let index = 0; index < count; index++) taken.add(await allocator.allocate(taken));
  return [...taken];
}
