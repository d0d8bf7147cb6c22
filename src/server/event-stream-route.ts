import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import { DEFAULT_HEARTBEAT_MS, lastEventIdOf } from './sse.js';

const eventsQuery = z.object({ lastEventId: z.string().optional() }).strict();

/** Where a stream picks up and how it writes: what every event stream is opened with. */
export interface StreamStart {
  /** Stored events up to this id are not sent again (SSE `Last-Event-ID`). */
  afterEventId: number;
  response: ServerResponse;
  heartbeatMs: number;
}

export interface EventStream {
  start(onClose: () => void): void;
  close(): void;
}

/**
 * Serves an event stream (a run's, a deployment's): validates `lastEventId` (query, or the
 * `Last-Event-ID` header, which wins) before `open` looks anything up (so bad input is a 400
 * whatever it names), takes the response over from fastify, and keeps the stream among the
 * server's open ones until it ends, so that closing the server ends it.
 */
export function serveEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  context: RouteContext,
  open: (start: StreamStart) => EventStream,
): void {
  const { lastEventId } = parseInput(eventsQuery, request.query, 'query');
  const header = request.headers['last-event-id'];
  const stream = open({
    afterEventId: lastEventIdOf(typeof header === 'string' ? header : lastEventId),
    response: reply.raw,
    heartbeatMs: context.deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
  });
  reply.hijack();
  context.streams.add(stream);
  try {
    stream.start(() => context.streams.delete(stream));
  } catch (error) {
    request.log.error({ err: error, url: request.url }, 'event stream failed');
    stream.close();
  }
}
