import { describe, expect, it } from 'vitest';
import { notificationEventSchema } from './notification-event-schema.js';
import { SAMPLE_EVENTS } from './testing/events.js';

describe('notificationEventSchema', () => {
  it.each(Object.values(SAMPLE_EVENTS))('reads back $type as it was written', (event) => {
    const stored: unknown = JSON.parse(JSON.stringify(event));

    expect(notificationEventSchema.parse(stored)).toEqual(event);
  });

  it.each([
    ['an unknown type', { type: 'run.exploded', service: 'shop', run: { id: 'r', number: 1 } }],
    ['a run event without its run', { type: 'run.started', service: 'shop' }],
    ['a failure without its reason', { ...SAMPLE_EVENTS['deployment.failed'], reason: 7 }],
  ])('refuses %s', (_case, value) => {
    expect(notificationEventSchema.safeParse(value).success).toBe(false);
  });
});
