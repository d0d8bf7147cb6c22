import { describe, expect, it } from 'vitest';
import { describeEvent } from './event-message.js';
import { escapeSlack, renderSlackMessage, slackLink } from './slack-message.js';
import { SAMPLE_EVENTS } from './testing/events.js';

describe('slack rendering', () => {
  it.each([
    ['a < b && c > d', 'a &lt; b &amp;&amp; c &gt; d'],
    ['plain *bold* stays', 'plain *bold* stays'],
  ])('escapes %j', (text, escaped) => {
    expect(escapeSlack(text)).toBe(escaped);
  });

  it.each([
    ['https://x.example/a?b=1&c=2', 'Run', '<https://x.example/a?b=1&amp;c=2|Run>'],
    ['https://x.example/a|b', 'A <b>', '<https://x.example/a%7Cb|A &lt;b&gt;>'],
  ])('links %s as %s', (url, label, expected) => {
    expect(slackLink(url, label)).toBe(expected);
  });

  it.each([
    [
      'deployment.rolled-back',
      'shop prod rolled back to release #11\nReason: alarm canary-error-rate went to ALARM\n<https://phoenix.example.com/runs/run_01|Run #42>',
    ],
    ['approval.expired', 'shop approval for prod expired'],
    [
      'alarm.state-changed',
      'shop alarm latency in prod: OK to ALARM\nReason: 1 of 1 datapoints &gt; 500',
    ],
  ] as const)('%s has a readable text', (type, text) => {
    expect(renderSlackMessage(describeEvent(SAMPLE_EVENTS[type])).text).toBe(text);
  });

  it('lays the facts out in blocks', () => {
    const message = renderSlackMessage(describeEvent(SAMPLE_EVENTS['deployment.rolled-back']));

    expect(message.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*shop prod rolled back to release #11*' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Service*\nshop' },
          { type: 'mrkdwn', text: '*Environment*\nprod' },
          { type: 'mrkdwn', text: '*Release*\nrelease #12' },
          { type: 'mrkdwn', text: '*Commit*\n0123456789ab' },
          { type: 'mrkdwn', text: '*Deployment*\ndep_01' },
          { type: 'mrkdwn', text: '*By*\nphoenix' },
        ],
      },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Reason*\nalarm canary-error-rate went to ALARM' },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Alarm* canary-error-rate (ALARM): 3 of 3 datapoints &gt; 5\n```12:00:01-12:00:02 UTC 7.5 breaching\n12:00:02-12:00:03 UTC 12.25 breaching\n12:00:03-12:00:04 UTC missing breaching```',
        },
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: '<https://phoenix.example.com/runs/run_01|Run #42>' }],
      },
    ]);
  });

  it('cuts text to what Slack accepts', () => {
    const event = { ...SAMPLE_EVENTS['deployment.failed'], reason: 'x'.repeat(5000) };

    const message = renderSlackMessage(describeEvent(event));

    expect(message.text.length).toBe(3000);
    expect(message.text.endsWith('...')).toBe(true);
  });
});
