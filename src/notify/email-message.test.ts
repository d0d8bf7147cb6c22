import { describe, expect, it } from 'vitest';
import { renderEmail } from './email-message.js';
import { describeEvent } from './event-message.js';
import { SAMPLE_EVENTS } from './testing/events.js';

describe('renderEmail', () => {
  it.each([
    ['run.failed', '[Phoenix]', '[Phoenix] shop run #42 failed at build'],
    ['approval.waiting', '', 'shop waits for approval to deploy to prod'],
    ['deployment.succeeded', '[ci]', '[ci] shop release #12 deployed to prod'],
  ] as const)('%s with prefix %j has subject %j', (type, prefix, subject) => {
    expect(renderEmail(describeEvent(SAMPLE_EVENTS[type]), prefix).subject).toBe(subject);
  });

  it('keeps a subject on one line', () => {
    const event = { ...SAMPLE_EVENTS['run.failed'], stage: 'build\r\nBcc: victim@example.com' };

    const { subject } = renderEmail(describeEvent(event), '[Phoenix]');

    expect(subject).toBe('[Phoenix] shop run #42 failed at build Bcc: victim@example.com');
  });

  it('writes a plain-text body', () => {
    const { text } = renderEmail(describeEvent(SAMPLE_EVENTS['deployment.rolled-back']), '');

    expect(text).toBe(
      [
        'shop prod rolled back to release #11',
        '',
        'Service:     shop',
        'Environment: prod',
        'Release:     release #12',
        'Commit:      0123456789ab',
        'Deployment:  dep_01',
        'By:          phoenix',
        '',
        'Reason:',
        '  alarm canary-error-rate went to ALARM',
        '',
        'Alarm canary-error-rate (ALARM): 3 of 3 datapoints > 5',
        '  12:00:01-12:00:02 UTC 7.5 breaching',
        '  12:00:02-12:00:03 UTC 12.25 breaching',
        '  12:00:03-12:00:04 UTC missing breaching',
        '',
        'Links:',
        '  Run #42: https://phoenix.example.com/runs/run_01',
        '',
        '-- ',
        'Sent by Phoenix',
        '',
      ].join('\n'),
    );
  });

  it('escapes the HTML body', () => {
    const event = {
      ...SAMPLE_EVENTS['deployment.failed'],
      reason: '<script>alert("x")</script>',
      links: [{ label: 'a & b', url: 'https://x.example/?a=1&b="2"' }],
    };

    const { html } = renderEmail(describeEvent(event), '');

    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">a &amp; b</a>');
    expect(html).not.toContain('<script>');
  });
});
