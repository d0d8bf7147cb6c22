import { describe, expect, it } from 'vitest';
import { describeEvent, formatDatapoint } from './event-message.js';
import { NOTIFICATION_EVENT_TYPES } from './notification-event.js';
import { SAMPLE_EVENTS } from './testing/events.js';

describe('describeEvent', () => {
  it.each([
    ['run.started', 'shop run #42 started', 'neutral'],
    ['run.succeeded', 'shop run #42 succeeded', 'good'],
    ['run.failed', 'shop run #42 failed at build', 'bad'],
    ['approval.waiting', 'shop waits for approval to deploy to prod', 'warning'],
    ['approval.granted', 'shop deployment to prod approved by bob', 'good'],
    ['approval.rejected', 'shop deployment to prod rejected by carol', 'bad'],
    ['approval.expired', 'shop approval for prod expired', 'bad'],
    ['deployment.started', 'shop release #12 deploying to prod', 'neutral'],
    ['deployment.promoted', 'shop release #12 promoted from staging to prod', 'neutral'],
    ['deployment.succeeded', 'shop release #12 deployed to prod', 'good'],
    ['deployment.failed', 'shop release #12 failed to deploy to prod', 'bad'],
    ['deployment.rolled-back', 'shop prod rolled back to release #11', 'bad'],
    ['alarm.state-changed', 'shop alarm latency in prod: OK to ALARM', 'warning'],
  ] as const)('%s reads "%s"', (type, title, tone) => {
    const message = describeEvent(SAMPLE_EVENTS[type]);

    expect(message.title).toBe(title);
    expect(message.tone).toBe(tone);
  });

  it('has a title for every event type', () => {
    expect(Object.keys(SAMPLE_EVENTS).sort()).toEqual([...NOTIFICATION_EVENT_TYPES].sort());
  });

  it.each([
    ['run.failed', { label: 'Reason', text: 'npm test exited with 1' }],
    ['approval.waiting', { label: 'Message', text: 'Check the canary dashboard first' }],
    ['approval.rejected', { label: 'Comment', text: 'not on a Friday' }],
    ['deployment.failed', { label: 'Reason', text: 'health check failed on 2 of 3 instances' }],
    ['alarm.state-changed', { label: 'Reason', text: '1 of 1 datapoints > 500' }],
    ['deployment.succeeded', undefined],
  ] as const)('%s notes %j', (type, note) => {
    expect(describeEvent(SAMPLE_EVENTS[type]).note).toEqual(note);
  });

  it('lists the facts a person needs, in a fixed order', () => {
    const message = describeEvent(SAMPLE_EVENTS['approval.waiting']);

    expect(message.fields).toEqual([
      { label: 'Service', value: 'shop' },
      { label: 'Environment', value: 'prod' },
      { label: 'Release', value: 'release #12' },
      { label: 'Run', value: 'run #42' },
      { label: 'Commit', value: '0123456789ab' },
      { label: 'Branch', value: 'main' },
      { label: 'Approvals needed', value: '2' },
      { label: 'Expires', value: '2026-01-08T00:00:00.000Z' },
      { label: 'By', value: 'alice' },
    ]);
  });

  it('shows a rollback alarm with its datapoints', () => {
    const message = describeEvent(SAMPLE_EVENTS['deployment.rolled-back']);

    expect(message.alarms).toEqual([
      {
        heading: 'canary-error-rate (ALARM): 3 of 3 datapoints > 5',
        datapoints: [
          '12:00:01-12:00:02 UTC 7.5 breaching',
          '12:00:02-12:00:03 UTC 12.25 breaching',
          '12:00:03-12:00:04 UTC missing breaching',
        ],
      },
    ]);
  });

  it('keeps only web links', () => {
    const event = {
      ...SAMPLE_EVENTS['run.failed'],
      links: [
        { label: 'Run', url: 'https://phoenix.example.com/runs/1' },
        { label: 'Evil', url: 'javascript:alert(1)' },
        { label: 'Broken', url: 'not a url' },
      ],
    };

    expect(describeEvent(event).links).toEqual([
      { label: 'Run', url: 'https://phoenix.example.com/runs/1' },
    ]);
  });
});

describe('formatDatapoint', () => {
  it.each([
    [{ start: 0, end: 1000, value: 1 / 3 }, '00:00:00-00:00:01 UTC 0.333'],
    [{ start: 0, end: 1000, value: 0, breaching: false }, '00:00:00-00:00:01 UTC 0 ok'],
    [{ start: 0, end: 60_000 }, '00:00:00-00:01:00 UTC missing'],
  ])('%j reads "%s"', (point, text) => {
    expect(formatDatapoint(point)).toBe(text);
  });
});
