import { performance } from 'node:perf_hooks';
import { z } from 'zod';

/** Longest a bench waits for one answer or one event stream before it gives up. */
const REQUEST_TIMEOUT_MS = 120_000;

/** The parts of the API's run view the benches read; unknown keys pass. */
export const runSchema = z.object({
  id: z.string(),
  number: z.number(),
  status: z.string(),
  commit: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  stages: z.array(
    z.object({
      index: z.number(),
      name: z.string(),
      status: z.string(),
      startedAt: z.string().optional(),
      finishedAt: z.string().optional(),
      output: z.record(z.unknown()).optional(),
    }),
  ),
});
export type RunView = z.infer<typeof runSchema>;

export const runListSchema = z.object({ runs: z.array(runSchema), next: z.string().optional() });
export const runResponseSchema = z.object({ run: runSchema });

/** A stored run event as the SSE stream sends it (`run.created`, `stage.status`, ...). */
export const storedEventSchema = z.object({
  id: z.number(),
  time: z.string(),
  type: z.string(),
  data: z.record(z.unknown()),
});
export type StoredEvent = z.infer<typeof storedEventSchema>;

export interface ServerSentEvent {
  event: string;
  data: string;
  /** Set on stored events only; live ones (`log`, `run.status`) have none. */
  id?: string;
}

/** A client of one server's HTTP API, with the admin token as bearer. */
export class PhoenixApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** A JSON request whose answer must be 2xx and match `schema`. */
  async json<T>(schema: z.ZodType<T>, path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.fetch(path, init);
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`);
    return schema.parse(JSON.parse(text));
  }

  async text(path: string): Promise<string> {
    const response = await this.fetch(path);
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text}`);
    return text;
  }

  /** A GET timed from the call until the whole body is read, as a client waits for it. */
  async timedGet(path: string): Promise<number> {
    const started = performance.now();
    const response = await this.fetch(path);
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return elapsed;
  }

  /**
   * Reads a run's event stream (GET /api/runs/:id/events) until its `end` event: the run as
   * it was, every stored event replayed, live log lines while it runs.
   */
  async runEvents(runId: string): Promise<ServerSentEvent[]> {
    const path = `/api/runs/${runId}/events`;
    const response = await this.fetch(path);
    if (!response.ok || response.body === null)
      throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    const events: ServerSentEvent[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((match) => match[1]).join('\n');
        const id = /^id: (.*)$/m.exec(block)?.[1];
        events.push(id === undefined ? { event, data } : { event, data, id });
      }
    }
    if (!events.some((event) => event.event === 'end'))
      throw new Error(`the event stream of run ${runId} closed before its end event`);
    return events;
  }

  private fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }
}

/** The stored events of a finished stream, parsed. */
export function storedEvents(events: readonly ServerSentEvent[]): StoredEvent[] {
  return events
    .filter((event) => event.id !== undefined)
    .map((event) => storedEventSchema.parse(JSON.parse(event.data)));
}
