/**
 * Where releases run. The local runtime (child processes on this machine) is the embedded
 * default; Kubernetes and ECS implement the same contract later.
 *
 * Contract:
 * - `start` is idempotent per instance key (service, environment, release, index): starting
 *   an instance that runs already returns it. Each instance gets its own port.
 * - `stop` is safe after a failed start and on stopped instances; it sends SIGTERM, waits
 *   up to `graceMs`, then SIGKILL. Draining traffic first is the caller's job (the router).
 * - Instances outlive the control plane; `adopt` re-attaches those recorded before a restart
 *   and forgets (and cleans up) what died meanwhile.
 * - Events (exits, restarts) are delivered to subscribers in order; a subscriber must not throw.
 */
export interface Runtime {
  start(request: StartRequest, signal?: AbortSignal): Promise<Instance[]>;
  stop(instanceIds: readonly string[], options?: { graceMs?: number }): Promise<void>;
  list(filter?: InstanceFilter): Instance[];
  adopt(): Promise<Instance[]>;
  /** Restarts of an instance (after crashes) in the last `windowMs`: the crash-loop breaker's input. */
  restartsWithin(instanceId: string, windowMs: number): number;
  subscribe(listener: (event: InstanceEvent) => void): () => void;
  /** Stops watching (timers, restart loops); instances keep running. */
  close(): Promise<void>;
}

export interface StartRequest {
  service: string;
  environment: string;
  releaseId: string;
  /** The unpacked release: the instances' working directory. */
  directory: string;
  /** Shell command that starts one instance, e.g. `npm start` (from phoenix.yml release.start). */
  command: string;
  instances: number;
  /** Name of the variable carrying the port (phoenix.yml release.port-env, default PORT). */
  portEnv: string;
  /** The environment's variables; PHOENIX_* identity variables are added by the runtime. */
  env: Record<string, string>;
  /** Restart an instance that exits, with backoff; default true. */
  restart?: boolean;
}

export interface InstanceFilter {
  service?: string;
  environment?: string;
  releaseId?: string;
}

export type InstanceStatus =
  'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface Instance {
  id: string;
  service: string;
  environment: string;
  releaseId: string;
  index: number;
  pid?: number;
  port: number;
  status: InstanceStatus;
  startedAt: string;
  restarts: number;
  logFile: string;
}

export type InstanceEvent =
  | { type: 'started'; instance: Instance }
  | { type: 'exited'; instance: Instance; code: number | null; signal: string | null }
  | { type: 'restarting'; instance: Instance; attempt: number; delayMs: number }
  | { type: 'stopped'; instance: Instance };
