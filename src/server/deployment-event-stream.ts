import type { ServerResponse } from 'node:http';
import { isFinished, type Deployment } from '../deploy/deployment.js';
import type { DeploymentChanges } from '../deploy/deployment-changes.js';
import { deploymentView } from './deployment-views.js';
import { SseResponse } from './sse.js';

export interface DeploymentEventStreamOptions {
  /** The deployment as it is when the stream opens. */
  deployment: Deployment;
  /** Timeline events up to this id are not replayed (SSE `Last-Event-ID`). */
  afterEventId: number;
  changes: Pick<DeploymentChanges, 'subscribe'>;
  response: ServerResponse;
  heartbeatMs: number;
}

/**
 * One client following one deployment over Server-Sent Events:
 * - `deployment`: the deployment as it is when the stream opens (no id);
 * - its timeline events (`step.started`, `weights.applied`, `release.failing`, ...), with
 *   `id:` = the event's id, those recorded already first, then each as it is recorded — so a
 *   client reconnecting with `Last-Event-ID` misses none;
 * - `deployment.status` (no id) when the status changes, with the step and reason;
 * - `end` once the deployment has finished, with its status, outcome and serving release;
 *   then the stream closes.
 *
 * The controller records a change before it announces it, and every announcement carries the
 * whole deployment, so the stream sends what is new in each one: nothing is missed between
 * the snapshot and the first change.
 */
export class DeploymentEventStream {
  private lastEventId: number;
  private status: Deployment['status'];
  private unsubscribe: (() => void) | undefined;
  private readonly sse: SseResponse;

  constructor(private readonly o: DeploymentEventStreamOptions) {
    this.lastEventId = o.afterEventId;
    this.status = o.deployment.status;
    this.sse = new SseResponse(o.response, o.heartbeatMs);
  }

  /** Writes the head, the snapshot and the recorded timeline, then follows. */
  start(onClose: () => void): void {
    const { deployment } = this.o;
    this.sse.open(onClose);
    this.sse.onStop(() => this.unsubscribe?.());
    this.unsubscribe = this.o.changes.subscribe((changed) => {
      if (changed.id === deployment.id) this.onChange(changed);
    });
    this.sse.send('deployment', deploymentView(deployment));
    this.sendNew(deployment);
    if (isFinished(deployment.status)) {
      this.end(deployment);
      return;
    }
    this.sse.keepAlive();
  }

  /** Ends the stream without an `end` event (the server is shutting down). */
  close(): void {
    this.sse.close();
  }

  private onChange(deployment: Deployment): void {
    if (this.sse.closed) return;
    this.sendNew(deployment);
    if (deployment.status !== this.status) {
      this.status = deployment.status;
      this.sse.send('deployment.status', {
        status: deployment.status,
        step: deployment.step,
        ...(deployment.reason === undefined ? {} : { reason: deployment.reason }),
      });
    }
    if (isFinished(deployment.status)) this.end(deployment);
  }

  private sendNew(deployment: Deployment): void {
    for (const event of deployment.timeline) {
      if (event.id <= this.lastEventId) continue;
      this.lastEventId = event.id;
      this.sse.send(event.type, event, event.id);
    }
  }

  private end(deployment: Deployment): void {
    this.sse.send('end', {
      status: deployment.status,
      ...(deployment.outcome === undefined ? {} : { outcome: deployment.outcome }),
      ...(deployment.reason === undefined ? {} : { reason: deployment.reason }),
      ...(deployment.servingReleaseId === undefined
        ? {}
        : { servingReleaseId: deployment.servingReleaseId }),
    });
    this.close();
  }
}
