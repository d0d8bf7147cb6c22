import type { Clock, TimerHandle } from '../../shared/clock.js';

/**
 * Real time that a test can move forward at once: timers fire on their own as with the
 * system clock (real processes need real time to start and answer health checks), and
 * `jump(ms)` skips ahead, firing whatever falls due, so that a five-minute bake takes no
 * time. Never goes back.
 */
export class JumpClock implements Clock {
  private offset = 0;
  private nextId = 1;
  private readonly timers = new Map<
    number,
    { due: number; fn: () => void; timer: NodeJS.Timeout }
  >();

  now(): number {
    return Date.now() + this.offset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const due = this.now() + Math.max(0, ms);
    const timer = setTimeout(() => this.fire(id), Math.max(0, ms));
    this.timers.set(id, { due, fn, timer });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const entry = this.timers.get(handle.id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.timers.delete(handle.id);
  }

  jump(ms: number): void {
    this.offset += ms;
    const due = [...this.timers.entries()]
      .filter(([, entry]) => entry.due <= this.now())
      .sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (const [id] of due) this.fire(id);
  }

  private fire(id: number): void {
    const entry = this.timers.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.timers.delete(id);
    entry.fn();
  }
}
