import type { Approval } from '../approval/approval.js';
import type { SecretRecord } from '../secrets/secret.js';
import type { AuditEntry } from '../store/audit-repository.js';
import type { DeploymentView, ServiceStatusView } from '../deploy/deployment-view.js';
import { ExternalServiceError } from '../shared/errors.js';
import type { RunView } from '../pipeline/run-view.js';
import type { ReleaseView } from '../release/release-view.js';
import type { ServiceView } from '../store/service-view.js';
import type { TokenRecord, TokenRole } from '../store/token-repository.js';
import type {
  CreatedTokenView,
  DeletedService,
  HostedRepository,
  Identity,
  NewServiceRequest,
  ReleasePage,
  ReleaseQuery,
  RunPage,
  RunQuery,
  RunStreamEvent,
  TriggerRequest,
  TriggerResult,
} from './api-types.js';
import { parseEventStream } from './event-stream.js';

/** A request (other than an event stream) that takes longer than this has failed. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ApiClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8800`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; only `/health` works without one. */
  token?: string;
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
}

export interface FieldError {
  /** `body`, `query`, `path`, `header`, or `file:line:column` for an issue in a user's file. */
  location?: string;
  /** The field or dotted key, e.g. `repository.url`; empty for the whole part or document. */
  field: string;
  message: string;
}

/** The server answered with an error (RFC 9457 problem details). */
export class ApiError extends ExternalServiceError {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly errors: readonly FieldError[],
  ) {
    super(detail === undefined || detail === '' ? title : `${title}: ${detail}`);
  }
}

/** No answer at all: nothing listens at the URL, DNS failed, or the server timed out. */
export class ServerUnreachableError extends ExternalServiceError {
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the Phoenix server at ${url} (${reason}): is \`phoenix server\` running?`, {
      ...options,
    });
  }
}

interface RequestOptions {
  body?: unknown;
  accept?: string;
  headers?: Record<string, string>;
  /** Replaces the request timeout: the caller decides when to stop (event streams). */
  signal?: AbortSignal;
}

/** A typed client of Phoenix's HTTP API: what the `phoenix` commands talk to. */
export class ApiClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly fetch: typeof fetch;
  private readonly requestTimeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  health(): Promise<unknown> {
    return this.json('GET', '/health');
  }

  me(): Promise<Identity> {
    return this.json('GET', '/api/me');
  }

  createToken(input: { name: string; role: TokenRole }): Promise<CreatedTokenView> {
    return this.json('POST', '/api/tokens', { body: input });
  }

  listTokens(): Promise<{ tokens: TokenRecord[] }> {
    return this.json('GET', '/api/tokens');
  }

  revokeToken(id: string): Promise<{ token: TokenRecord }> {
    return this.json('DELETE', `/api/tokens/${segment(id)}`);
  }

  listServices(): Promise<{ services: ServiceView[] }> {
    return this.json('GET', '/api/services');
  }

  getService(name: string): Promise<{ service: ServiceView }> {
    return this.json('GET', `/api/services/${segment(name)}`);
  }

  createService(input: NewServiceRequest): Promise<{ service: ServiceView }> {
    return this.json('POST', '/api/services', { body: input });
  }

  /** Unfinished runs of the service are cancelled; a hosted repository stays on disk. */
  deleteService(name: string): Promise<DeletedService> {
    return this.json('DELETE', `/api/services/${segment(name)}`);
  }

  /** A hosted bare repository, and the service built from it. */
  createRepository(input: { name: string; defaultBranch?: string }): Promise<HostedRepository> {
    return this.json('POST', '/api/repos', { body: input });
  }

  listRuns(query: RunQuery = {}): Promise<RunPage> {
    const { service, status, limit, before } = query;
    return this.json('GET', `/api/runs${searchOf({ service, status, limit, before })}`);
  }

  /** By run id (`r_...`) or `service#number`. */
  getRun(reference: string): Promise<{ run: RunView }> {
    return this.json('GET', `/api/runs/${segment(reference)}`);
  }

  getRunByNumber(service: string, number: number): Promise<{ run: RunView }> {
    return this.json('GET', `/api/services/${segment(service)}/runs/${number}`);
  }

  /** A manual run of the branch's head (or `commit`); `ignored` when nothing was started. */
  trigger(service: string, input: TriggerRequest = {}): Promise<TriggerResult> {
    return this.json('POST', `/api/services/${segment(service)}/trigger`, { body: input });
  }

  cancelRun(reference: string): Promise<{ run: RunView }> {
    return this.json('POST', `/api/runs/${segment(reference)}/cancel`);
  }

  /** Re-runs the failed (or cancelled) stage of a finished run. */
  retryRun(reference: string): Promise<{ run: RunView }> {
    return this.json('POST', `/api/runs/${segment(reference)}/retry`);
  }

  /** A service's releases, newest first. */
  listReleases(service: string, query: ReleaseQuery = {}): Promise<ReleasePage> {
    const { limit, before } = query;
    return this.json(
      'GET',
      `/api/services/${segment(service)}/releases${searchOf({ limit, before })}`,
    );
  }

  /** By release id (`rel_...`) or `service#number`. */
  getRelease(reference: string): Promise<{ release: ReleaseView }> {
    return this.json('GET', `/api/releases/${segment(reference)}`);
  }

  /** Deploys a release (the latest unless named) to an environment; the deployment goes on by itself. */
  deploy(
    service: string,
    input: { environment: string; release?: string },
  ): Promise<{ deployment: DeploymentView }> {
    return this.json('POST', `/api/services/${segment(service)}/deployments`, { body: input });
  }

  /** What serves in each environment of the service (or one), with its latest deployment. */
  serviceStatus(service: string, query: { environment?: string } = {}): Promise<ServiceStatusView> {
    return this.json('GET', `/api/services/${segment(service)}/status${searchOf(query)}`);
  }

  getDeployment(id: string): Promise<{ deployment: DeploymentView }> {
    return this.json('GET', `/api/deployments/${segment(id)}`);
  }

  /** Lets a held deployment go on, or cuts its current bake short. */
  promote(id: string): Promise<{ deployment: DeploymentView }> {
    return this.json('POST', `/api/deployments/${segment(id)}/promote`);
  }

  /** Creates or replaces a secret; the answer never holds the value. */
  setSecret(
    name: string,
    input: { value: string; service?: string; environment?: string },
  ): Promise<{ secret: SecretRecord }> {
    return this.json('PUT', `/api/secrets/${segment(name)}`, { body: input });
  }

  /** Secrets without values; with `service`, those it sees (its own and all services'). */
  listSecrets(query: { service?: string } = {}): Promise<{ secrets: SecretRecord[] }> {
    return this.json('GET', `/api/secrets${searchOf(query)}`);
  }

  /** Removes the secret at one scope (all services, all environments when not given). */
  removeSecret(
    name: string,
    query: { service?: string; environment?: string } = {},
  ): Promise<{ secret: SecretRecord }> {
    return this.json('DELETE', `/api/secrets/${segment(name)}${searchOf(query)}`);
  }

  /** The audit log, newest first (admins). */
  audit(query: { limit?: number; actor?: string; before?: number } = {}): Promise<{
    entries: AuditEntry[];
  }> {
    return this.json('GET', `/api/audit${searchOf(query)}`);
  }

  /** Approval gates waiting for a decision, oldest first. */
  approvals(query: { service?: string } = {}): Promise<{ approvals: Approval[] }> {
    return this.json('GET', `/api/approvals${searchOf(query)}`);
  }

  /** Approves (or rejects) the gate waiting before an environment. */
  decide(
    service: string,
    decision: 'approve' | 'reject',
    input: { environment: string; comment?: string },
  ): Promise<{ approval: Approval }> {
    return this.json('POST', `/api/services/${segment(service)}/${decision}`, { body: input });
  }

  /** Holds a deployment at its current step (`resume` lets it go on). */
  pause(id: string): Promise<{ deployment: DeploymentView }> {
    return this.json('POST', `/api/deployments/${segment(id)}/pause`);
  }

  resume(id: string): Promise<{ deployment: DeploymentView }> {
    return this.json('POST', `/api/deployments/${segment(id)}/resume`);
  }

  /** Stops a deployment now: production goes back to what served before. */
  abort(id: string): Promise<{ deployment: DeploymentView }> {
    return this.json('POST', `/api/deployments/${segment(id)}/abort`);
  }

  /** Production back to an earlier release now (aborting the deployment in flight, if any). */
  rollback(
    service: string,
    input: { environment: string; release?: string },
  ): Promise<{ action: 'aborted' | 'deployed'; deployment: DeploymentView }> {
    return this.json('POST', `/api/services/${segment(service)}/rollback`, { body: input });
  }

  /** What a deployment's appspec hooks wrote, as text (secrets masked). */
  async deploymentLog(deploymentId: string): Promise<string> {
    const response = await this.send('GET', `/api/deployments/${segment(deploymentId)}/logs`, {
      accept: 'text/plain',
    });
    return this.read(() => response.text());
  }

  /** A stage's log as text, by default the build stage's. */
  async logs(reference: string, options: { stage?: number } = {}): Promise<string> {
    const response = await this.send(
      'GET',
      `/api/runs/${segment(reference)}/logs${searchOf(options)}`,
      { accept: 'text/plain' },
    );
    return this.read(() => response.text());
  }

  /**
   * The run's live events, from the start (or after `lastEventId`) until the server ends
   * the stream. Aborting `signal` ends the iteration quietly; a connection lost midway
   * throws ServerUnreachableError.
   */
  events(
    runId: string,
    options: { lastEventId?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<RunStreamEvent> {
    return this.eventStream(`/api/runs/${segment(runId)}/events`, options);
  }

  /** The deployment's timeline as it happens, likewise (GET /api/deployments/{id}/events). */
  deploymentEvents(
    deploymentId: string,
    options: { lastEventId?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<RunStreamEvent> {
    return this.eventStream(`/api/deployments/${segment(deploymentId)}/events`, options);
  }

  private async *eventStream(
    path: string,
    options: { lastEventId?: string; signal?: AbortSignal },
  ): AsyncGenerator<RunStreamEvent> {
    const { lastEventId, signal } = options;
    let response: Response;
    try {
      response = await this.send('GET', path, {
        accept: 'text/event-stream',
        headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
        signal: signal ?? new AbortController().signal,
      });
    } catch (error) {
      if (signal?.aborted === true) return;
      throw error;
    }
    if (response.body === null) return;
    try {
      for await (const message of parseEventStream(response.body)) {
        yield {
          ...(message.id === undefined ? {} : { id: message.id }),
          event: message.event,
          data: parseData(message.data),
        };
      }
    } catch (error) {
      if (signal?.aborted === true) return;
      throw new ServerUnreachableError(this.url, 'the event stream broke off', { cause: error });
    }
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, { accept: 'application/json', ...options });
    const text = await this.read(() => response.text());
    // The server is this codebase at the same version: its types are the contract.
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.accept !== undefined) headers['accept'] = options.accept;
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetch(`${this.url}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal ?? AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      throw new ServerUnreachableError(this.url, networkReason(error, this.requestTimeoutMs), {
        cause: error,
      });
    }
    if (!response.ok) throw await problemOf(response);
    return response;
  }

  /** Reads a body, naming the server when the connection breaks or times out midway. */
  private async read<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw new ServerUnreachableError(this.url, networkReason(error, this.requestTimeoutMs), {
        cause: error,
      });
    }
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function searchOf(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const search = params.toString();
  return search === '' ? '' : `?${search}`;
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** The system error code under fetch's generic `fetch failed`, or what happened instead. */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError')
    return `no answer within ${timeoutMs / 1000}s`;
  const cause = error instanceof Error ? error.cause : undefined;
  const code = errorCode(cause) ?? errorCode(error);
  if (code !== undefined) return code;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  // Happy eyeballs: one error per address tried, e.g. ::1 and 127.0.0.1 for localhost.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const code = errorCode(inner);
      if (code !== undefined) return code;
    }
  }
  return undefined;
}

async function problemOf(response: Response): Promise<ApiError> {
  const fallbackTitle = response.statusText || `HTTP ${response.status}`;
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The status says enough.
  }
  const problem = parseProblem(text);
  if (problem === undefined) {
    const detail = text.trim().slice(0, 500);
    return new ApiError(response.status, fallbackTitle, detail === '' ? undefined : detail, []);
  }
  return new ApiError(
    response.status,
    typeof problem['title'] === 'string' ? problem['title'] : fallbackTitle,
    typeof problem['detail'] === 'string' ? problem['detail'] : undefined,
    fieldErrors(problem['errors']),
  );
}

function parseProblem(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Field errors as Phoenix sends them (`{location, field, message}`), and the other common
 * shapes: a list of `{path|key|pointer, message}` or of strings, or a map field → messages.
 */
function fieldErrors(value: unknown): FieldError[] {
  if (Array.isArray(value)) return value.flatMap(fieldErrorOf);
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([field, messages]) =>
    (Array.isArray(messages) ? messages : [messages]).map((message) => ({
      field,
      message: String(message),
    })),
  );
}

function fieldErrorOf(value: unknown): FieldError[] {
  if (typeof value === 'string') return [{ field: '', message: value }];
  if (!isRecord(value)) return [];
  const field = [value['field'], value['path'], value['key'], value['pointer']].find(
    (candidate) => typeof candidate === 'string' || Array.isArray(candidate),
  );
  const message = value['message'] ?? value['detail'];
  const location = value['location'] ?? value['in'];
  return [
    {
      ...(typeof location === 'string' ? { location } : {}),
      field: Array.isArray(field) ? field.join('.') : typeof field === 'string' ? field : '',
      message: typeof message === 'string' ? message : JSON.stringify(value),
    },
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
