import type { LogLine } from '../build/build-log.js';
import type { Run, RunStatus, StageStatus } from './run.js';

/** What happens to runs, as it happens: the API's live streams and metrics listen here. */
export type RunEvent =
  | { type: 'run.created'; run: Run }
  | { type: 'run.status'; run: Run; status: RunStatus; reason?: string }
  | { type: 'stage.status'; run: Run; index: number; status: StageStatus; reason?: string }
  | { type: 'log'; runId: string; index: number; line: LogLine };

export type RunEventListener = (event: RunEvent) => void;

/**
 * In-process fan-out. Listeners are called synchronously and must not throw; a listener that
 * throws is removed, so one broken subscriber cannot stop the pipeline.
 */
export class RunEventBus {
  private readonly listeners = new Set<RunEventListener>();

  subscribe(listener: RunEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RunEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

export function runIdOf(event: RunEvent): string {
  return event.type === 'log' ? event.runId : event.run.id;
}
