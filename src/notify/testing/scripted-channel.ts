import type { NotificationChannel, SendRequest } from '../channel.js';
import { DeliveryError } from '../delivery.js';

/** What one attempt does: succeed, fail (retryably or not), or wait until released or aborted. */
export type Step = 'ok' | 'fail' | 'refuse' | 'hang' | 'throw-sync';

/**
 * A real NotificationChannel driven by a script of steps, one per attempt (the last repeats).
 * It records every request and complains when a delivery's attempts come out of order.
 */
export class ScriptedChannel implements NotificationChannel {
  readonly type = 'webhook';
  readonly requests: SendRequest[] = [];
  private readonly hanging = new Set<() => void>();
  private readonly attemptsSeen = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly steps: readonly Step[] = ['ok'],
    private readonly secretValues: string[] = [],
  ) {}

  send(request: SendRequest): Promise<void> {
    const previous = this.attemptsSeen.get(request.deliveryId) ?? 0;
    if (request.attempt !== previous + 1)
      throw new Error(`attempt ${request.attempt} after attempt ${previous}`);
    this.attemptsSeen.set(request.deliveryId, request.attempt);
    this.requests.push(request);
    const step = this.steps[Math.min(this.requests.length, this.steps.length) - 1] ?? 'ok';
    if (step === 'throw-sync') throw new Error('thrown before any await');
    if (step === 'ok') return Promise.resolve();
    if (step === 'fail') return Promise.reject(new Error(`failed ${this.secretValues.join(',')}`));
    if (step === 'refuse')
      return Promise.reject(new DeliveryError('refused', { retryable: false }));
    // Ignores its signal on purpose: the notifier must stop waiting anyway.
    return new Promise((resolve) => this.hanging.add(resolve));
  }

  /** Lets every hanging attempt succeed (late: the notifier may have given up already). */
  release(): void {
    for (const resolve of this.hanging) resolve();
    this.hanging.clear();
  }

  secrets(): string[] {
    return this.secretValues;
  }
}
