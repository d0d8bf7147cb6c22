import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomically } from '../shared/atomic-write.js';
import { ConflictError, NotFoundError, PlatformError } from '../shared/errors.js';
import type { EnvironmentListeners } from './deploy-context.js';

/** The registry lives at `<PHOENIX_HOME>/listeners.json`. */
export function listenerRegistryPath(home: string): string {
  return join(home, 'listeners.json');
}

/** An environment's listener ports, as phoenix.yml gives them. */
export interface ListenerPorts {
  production: number;
  test?: number;
}

export interface RegisteredListeners extends ListenerPorts {
  service: string;
  environment: string;
}

const port = z.number().int().min(1).max(65_535);
const fileSchema = z.object({
  version: z.literal(1),
  listeners: z.array(
    z
      .object({
        service: z.string().min(1),
        environment: z.string().min(1),
        production: port,
        test: port.optional(),
      })
      .strict(),
  ),
});

/** The router's names for an environment's listeners: `<service>-<environment>[-test]`. */
export function listenerNames(
  service: string,
  environment: string,
): { production: string; test: string } {
  return { production: `${service}-${environment}`, test: `${service}-${environment}-test` };
}

/**
 * Which ports each environment of each service listens on, kept on disk so that a restarted
 * control plane still knows where a deployment it recovers routes (`listenersFor`), even
 * before any phoenix.yml is read again. Fed from phoenix.yml when a deployment starts.
 *
 * One port belongs to one listener of one environment across all services: the file-level
 * check in phoenix.yml cannot see other services, this does. Writes replace the file
 * atomically; the file is read once, at `open`.
 */
export class ListenerRegistry {
  private constructor(
    readonly path: string,
    private readonly entries: Map<string, RegisteredListeners>,
  ) {}

  /** Reads the registry at `path`; an empty one when there is no file yet. */
  static open(path: string): ListenerRegistry {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        return new ListenerRegistry(path, new Map());
      }
      throw new PlatformError(`cannot read the listener registry ${path}`, { cause: error });
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new PlatformError(`the listener registry ${path} is damaged`, { cause: error });
    }
    const entries = new Map(
      parsed.listeners.map((entry) => [keyOf(entry.service, entry.environment), entry]),
    );
    return new ListenerRegistry(path, entries);
  }

  /** The ports recorded for the environment, if any. */
  ports(service: string, environment: string): ListenerPorts | undefined {
    const entry = this.entries.get(keyOf(service, environment));
    if (entry === undefined) return undefined;
    return {
      production: entry.production,
      ...(entry.test === undefined ? {} : { test: entry.test }),
    };
  }

  /** The environment's listeners as the router knows them; NotFoundError when none were recorded. */
  listenersFor(service: string, environment: string): EnvironmentListeners {
    const ports = this.ports(service, environment);
    if (ports === undefined) {
      throw new NotFoundError(
        `no listeners are recorded for ${service} ${environment}: deploy it with listeners in phoenix.yml`,
      );
    }
    return listenersOf(service, environment, ports);
  }

  /**
   * Records the environment's ports (replacing what it had) and returns its listeners.
   * ConflictError, before anything is written, when another environment holds one of them.
   */
  record(service: string, environment: string, ports: ListenerPorts): EnvironmentListeners {
    for (const other of this.entries.values()) {
      if (other.service === service && other.environment === environment) continue;
      for (const wanted of [ports.production, ports.test]) {
        if (wanted === undefined) continue;
        const held =
          other.production === wanted ? 'production' : other.test === wanted ? 'test' : undefined;
        if (held === undefined) continue;
        throw new ConflictError(
          `port ${wanted} is already the ${held} listener of ${other.service} ${other.environment}`,
        );
      }
    }
    const current = this.ports(service, environment);
    if (current?.production !== ports.production || current.test !== ports.test) {
      const next = new Map(this.entries);
      next.set(keyOf(service, environment), { service, environment, ...ports });
      this.save(next);
    }
    return listenersOf(service, environment, ports);
  }

  /** Forgets every environment of the service (it was taken down): its ports are free again. */
  forget(service: string): void {
    const next = new Map([...this.entries].filter(([, entry]) => entry.service !== service));
    if (next.size !== this.entries.size) this.save(next);
  }

  /** Every recorded environment, by service then environment. */
  list(): RegisteredListeners[] {
    return sorted(this.entries);
  }

  private save(next: Map<string, RegisteredListeners>): void {
    const listeners = sorted(next);
    try {
      writeFileAtomically(this.path, `${JSON.stringify({ version: 1, listeners }, null, 2)}\n`);
    } catch (error) {
      throw new PlatformError(`cannot save the listener registry ${this.path}`, { cause: error });
    }
    this.entries.clear();
    for (const [key, entry] of next) this.entries.set(key, entry);
  }
}

function sorted(entries: Map<string, RegisteredListeners>): RegisteredListeners[] {
  return [...entries.values()].sort(
    (a, b) => a.service.localeCompare(b.service) || a.environment.localeCompare(b.environment),
  );
}

function keyOf(service: string, environment: string): string {
  return JSON.stringify([service, environment]);
}

function listenersOf(
  service: string,
  environment: string,
  ports: ListenerPorts,
): EnvironmentListeners {
  const names = listenerNames(service, environment);
  return {
    production: { name: names.production, port: ports.production },
    ...(ports.test === undefined ? {} : { test: { name: names.test, port: ports.test } }),
  };
}
