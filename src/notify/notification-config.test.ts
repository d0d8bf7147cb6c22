import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { notificationsSchema } from './notification-config.js';

function parseNotifications(text: string) {
  return notificationsSchema.safeParse(parse(text));
}

function problems(text: string): string[] {
  const result = parseNotifications(text);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('notificationsSchema', () => {
  it('reads each channel type and fills in the defaults', () => {
    const result = parseNotifications(`
- type: webhook
  url: https://hooks.example.com/phoenix
  secret: { secret: PHOENIX_HOOK_SECRET }
- name: deploys
  type: slack
  url: { env: SLACK_URL }
  events: [deployment.*, approval.waiting]
  environments: prod
- type: email
  host: smtp.example.com
  auth: { user: phoenix, password: { secret: SMTP_PASSWORD } }
  from: Phoenix <phoenix@example.com>
  to: ops@example.com
  subject-prefix: "[shop]"
`);

    expect(result.success && result.data).toEqual([
      {
        type: 'webhook',
        name: 'webhook-1',
        url: 'https://hooks.example.com/phoenix',
        secret: { secret: 'PHOENIX_HOOK_SECRET' },
        events: undefined,
        environments: undefined,
      },
      {
        type: 'slack',
        name: 'deploys',
        url: { env: 'SLACK_URL' },
        events: ['deployment.*', 'approval.waiting'],
        environments: ['prod'],
      },
      {
        type: 'email',
        name: 'email-3',
        host: 'smtp.example.com',
        port: 587,
        secure: false,
        starttls: 'required',
        auth: { user: 'phoenix', password: { secret: 'SMTP_PASSWORD' } },
        from: 'Phoenix <phoenix@example.com>',
        to: ['ops@example.com'],
        subjectPrefix: '[shop]',
        events: undefined,
        environments: undefined,
      },
    ]);
  });

  it.each([
    [{ secure: true }, { port: 465, starttls: 'opportunistic' }],
    [
      { port: 2525, starttls: 'never' },
      { port: 2525, starttls: 'never' },
    ],
    [{}, { port: 587, starttls: 'opportunistic', subjectPrefix: '[Phoenix]' }],
  ])('email %j gets %j', (given, expected) => {
    const result = notificationsSchema.safeParse([
      { type: 'email', host: 'localhost', from: 'ci@example.com', to: ['a@example.com'], ...given },
    ]);

    expect(result.success && result.data[0]).toMatchObject(expected);
  });

  it.each([
    [
      '- type: teams\n  url: https://x.example',
      '0.type: type is required: one of webhook, slack, email',
    ],
    [
      '- type: webhook\n  url: https://x.example\n  events: [deploymnet.*]',
      '0.events.0: "deploymnet.*" matches no event',
    ],
    [
      '- type: webhook\n  url: https://x.example\n  events: []',
      '0.events: an empty list matches nothing',
    ],
    ['- type: slack\n  url: ftp://x.example', '0.url: expected an http:// or https:// URL'],
    ['- type: slack\n  url: { vault: X }', '0.url: expected a URL, or a secret holding one'],
    [
      '- type: webhook\n  url: https://x.example\n  secret: hunter2',
      '0.secret: expected a secret reference: { secret: NAME } or { env: NAME }',
    ],
    [
      '- type: email\n  host: h\n  from: a@b.c\n  to: [d@e.f]\n  auth: { user: u, password: hunter2 }',
      '0.auth.password: expected a secret reference',
    ],
    [
      '- type: email\n  host: h\n  from: a@b.c\n  to: [d@e.f]\n  secure: true\n  starttls: required',
      '0.starttls: secure: true is TLS from the first byte',
    ],
    ['- type: email\n  host: h\n  from: a@b.c\n  to: [nobody]', '0.to'],
    ['- type: email\n  host: h\n  from: a@b.c\n  to: []', '0.to'],
    [
      '- type: slack\n  url: https://x.example\n  environments: [Prod]',
      '0.environments.0: "Prod" is not an environment name or glob',
    ],
    [
      '- type: slack\n  url: https://x.example\n  channel: "#ops"',
      "0: Unrecognized key(s) in object: 'channel'",
    ],
    [
      '- { type: slack, url: "https://x.example", name: ops }\n- { type: webhook, url: "https://y.example", name: ops }',
      '1.name: duplicate channel name "ops" (also notifications[0])',
    ],
    ['type: slack', ': expected a list of channels'],
  ])('refuses %j', (text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  it('accepts the example in docs/notifications.md', () => {
    const doc = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';

    const result = notificationsSchema.safeParse(
      (parse(example) as { notifications: unknown }).notifications,
    );

    expect(result.success && result.data.map((channel) => channel.name)).toEqual([
      'audit-hook',
      'prod-deploys',
      'oncall-mail',
    ]);
  });
});
