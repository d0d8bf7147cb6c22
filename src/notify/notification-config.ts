import { z } from 'zod';
import { integer } from '../config/schema-parts.js';
import { eventTypesMatching } from './event-filter.js';
import { NOTIFICATION_EVENT_TYPES } from './notification-event.js';
import { secretRefSchema, type SecretRef } from './secret-ref.js';

/**
 * The shape of phoenix.yml's top-level `notifications:` list: where events go (a webhook, a
 * Slack-compatible incoming webhook, email over SMTP) and which of them (`events` and
 * `environments` filters). Secrets are named, never written here. The schema turns kebab-case
 * keys into the camelCase `NotificationChannelConfig` and fills in the defaults named below.
 */

export const CHANNEL_TYPES = ['webhook', 'slack', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const CHANNEL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_SMTP_PORT = 587;
export const DEFAULT_SMTPS_PORT = 465;
export const DEFAULT_SUBJECT_PREFIX = '[Phoenix]';

/**
 * `required` refuses a server without STARTTLS; `opportunistic` upgrades when offered;
 * `never` stays in plain text (a relay on loopback). Without `auth` the default is
 * `opportunistic`; with it, `required`, so that a password never crosses in plain text.
 */
export const STARTTLS_MODES = ['required', 'opportunistic', 'never'] as const;
export type StartTlsMode = (typeof STARTTLS_MODES)[number];

const ENVIRONMENT_GLOB = /^!?[a-z0-9*][a-z0-9*-]*$/;

function patternList(what: string, check: (pattern: string) => string | undefined) {
  const pattern = z
    .string({ invalid_type_error: `expected ${what} name or glob` })
    .min(1, 'an empty pattern matches nothing')
    .superRefine((text, ctx) => {
      const problem = check(text);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    });
  return z
    .union([z.array(pattern), pattern], {
      errorMap: (issue, ctx) =>
        issue.code === 'invalid_union'
          ? { message: `expected ${what} name, a glob, or a list of them` }
          : { message: ctx.defaultError },
    })
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .superRefine((items, ctx) => {
      if (items.length === 0)
        ctx.addIssue({ code: 'custom', message: 'an empty list matches nothing: leave it out' });
      else if (items.every((item) => item.startsWith('!')))
        ctx.addIssue({
          code: 'custom',
          message: 'only "!" patterns match nothing: list "*" first',
        });
    });
}

const eventsSchema = patternList('an event', (pattern) =>
  eventTypesMatching(pattern).length === 0
    ? `"${pattern}" matches no event: expected one of ${NOTIFICATION_EVENT_TYPES.join(', ')}, or a glob such as deployment.*`
    : undefined,
);

const environmentsSchema = patternList('an environment', (pattern) =>
  ENVIRONMENT_GLOB.test(pattern)
    ? undefined
    : `"${pattern}" is not an environment name or glob (lowercase letters, digits, hyphens, *)`,
);

const httpUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL` });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    ctx.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL' });
});

/** A URL, or a secret holding one: a Slack webhook URL is itself a credential. */
const urlSchema = z.union([httpUrl, secretRefSchema], {
  errorMap: (issue, ctx) =>
    issue.code === 'invalid_union'
      ? { message: 'expected a URL, or a secret holding one: { secret: NAME } or { env: NAME }' }
      : { message: ctx.defaultError },
});

/** One address, optionally with a display name: `Phoenix <ci@example.com>`. */
const address = z
  .string({ invalid_type_error: 'expected an email address' })
  .regex(/^[^\r\n]*[^\s@<>]+@[^\s@<>]+>?$/, 'expected an email address such as ops@example.com');

const common = {
  name: z
    .string()
    .regex(
      CHANNEL_NAME_PATTERN,
      'channel names are lowercase letters, digits and hyphens (they appear in delivery records)',
    )
    .optional(),
  events: eventsSchema.optional(),
  environments: environmentsSchema.optional(),
};

const webhookSchema = z
  .object({
    type: z.literal('webhook'),
    ...common,
    url: urlSchema,
    /** Signs each body: `X-Phoenix-Signature-256: sha256=<hex HMAC-SHA256>`. */
    secret: secretRefSchema.optional(),
  })
  .strict();

const slackSchema = z.object({ type: z.literal('slack'), ...common, url: urlSchema }).strict();

const emailSchema = z
  .object({
    type: z.literal('email'),
    ...common,
    host: z.string({ required_error: 'host is required: the SMTP server' }).min(1),
    port: integer('port', 1, 65_535).optional(),
    /** TLS from the first byte (SMTPS, usually port 465). */
    secure: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    starttls: z
      .enum(STARTTLS_MODES, {
        errorMap: () => ({ message: `expected one of ${STARTTLS_MODES.join(', ')}` }),
      })
      .optional(),
    auth: z
      .object({ user: z.string().min(1), password: secretRefSchema })
      .strict()
      .optional(),
    from: address,
    to: z
      .union([z.array(address).min(1, 'list at least one recipient'), address])
      .transform((value) => (typeof value === 'string' ? [value] : value)),
    'subject-prefix': z.string().max(40).optional(),
  })
  .strict();

const channelSchema = z
  .discriminatedUnion('type', [webhookSchema, slackSchema, emailSchema], {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator'
        ? { message: `type is required: one of ${CHANNEL_TYPES.join(', ')}` }
        : { message: ctx.defaultError },
  })
  .superRefine((channel, ctx) => {
    if (channel.type === 'email' && channel.secure === true && channel.starttls !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['starttls'],
        message: 'secure: true is TLS from the first byte; starttls applies to plain connections',
      });
  });

type RawChannel = z.output<typeof channelSchema>;

interface ChannelCommon {
  /** Unique in the list; defaults to `<type>-<position>` (`slack-1`). */
  name: string;
  events?: string[];
  environments?: string[];
}

export interface WebhookChannelConfig extends ChannelCommon {
  type: 'webhook';
  url: string | SecretRef;
  secret?: SecretRef;
}

export interface SlackChannelConfig extends ChannelCommon {
  type: 'slack';
  url: string | SecretRef;
}

export interface EmailChannelConfig extends ChannelCommon {
  type: 'email';
  host: string;
  port: number;
  secure: boolean;
  starttls: StartTlsMode;
  auth?: { user: string; password: SecretRef };
  from: string;
  to: string[];
  subjectPrefix: string;
}

export type NotificationChannelConfig =
  WebhookChannelConfig | SlackChannelConfig | EmailChannelConfig;

function normalise(raw: RawChannel, index: number): NotificationChannelConfig {
  const name = raw.name ?? `${raw.type}-${index + 1}`;
  const filters = { name, events: raw.events, environments: raw.environments };
  if (raw.type !== 'email') return { ...raw, ...filters };
  const secure = raw.secure ?? false;
  const { 'subject-prefix': subjectPrefix, ...rest } = raw;
  return {
    ...rest,
    ...filters,
    port: raw.port ?? (secure ? DEFAULT_SMTPS_PORT : DEFAULT_SMTP_PORT),
    secure,
    starttls: raw.starttls ?? (raw.auth === undefined ? 'opportunistic' : 'required'),
    subjectPrefix: subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
  };
}

/** phoenix.yml `notifications:`. */
export const notificationsSchema = z
  .array(channelSchema, {
    invalid_type_error: 'expected a list of channels (- type: slack)',
  })
  .transform((channels) => channels.map(normalise))
  .superRefine((channels, ctx) => {
    const seen = new Map<string, number>();
    channels.forEach(({ name }, index) => {
      const earlier = seen.get(name);
      if (earlier === undefined) seen.set(name, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate channel name "${name}" (also notifications[${earlier}])`,
        });
    });
  });

export type RawNotifications = z.input<typeof notificationsSchema>;

/** Every key a `notifications` entry can have, for "did you mean" hints. */
export const NOTIFICATION_KEYS = [
  'notifications',
  'type',
  'name',
  'events',
  'environments',
  'url',
  'secret',
  'env',
  'host',
  'port',
  'secure',
  'starttls',
  'auth',
  'user',
  'password',
  'from',
  'to',
  'subject-prefix',
] as const;
