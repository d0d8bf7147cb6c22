import type { EventMessage } from './event-message.js';

/**
 * A Slack incoming-webhook body: `text` reads well alone (notifications, and the
 * Slack-compatible receivers that ignore blocks: Mattermost, Rocket.Chat), `blocks` lay the
 * same facts out. No emoji; links as `<url|label>`.
 */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export type SlackBlock =
  | { type: 'section'; text: SlackText }
  | { type: 'section'; fields: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

export interface SlackText {
  type: 'mrkdwn';
  text: string;
}

/** Slack's limits: 3000 characters in a section's text, 10 fields per section. */
export const SLACK_TEXT_LIMIT = 3000;
export const SLACK_FIELDS_PER_SECTION = 10;

/** Slack's three control characters; everything else is shown as written. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackLink(url: string, label: string): string {
  const target = escapeSlack(url).replace(/\|/g, '%7C');
  return `<${target}|${escapeSlack(label)}>`;
}

function truncate(text: string, limit = SLACK_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

function mrkdwn(text: string): SlackText {
  return { type: 'mrkdwn', text: truncate(text) };
}

export function renderSlackMessage(message: EventMessage): SlackMessage {
  const links = message.links.map((link) => slackLink(link.url, link.label)).join(' | ');
  const lines = [escapeSlack(message.title)];
  if (message.note !== undefined)
    lines.push(`${message.note.label}: ${escapeSlack(message.note.text)}`);
  if (links !== '') lines.push(links);

  const blocks: SlackBlock[] = [
    { type: 'section', text: mrkdwn(`*${escapeSlack(message.title)}*`) },
  ];
  for (let at = 0; at < message.fields.length; at += SLACK_FIELDS_PER_SECTION) {
    const fields = message.fields.slice(at, at + SLACK_FIELDS_PER_SECTION);
    blocks.push({
      type: 'section',
      fields: fields.map((field) => mrkdwn(`*${field.label}*\n${escapeSlack(field.value)}`)),
    });
  }
  if (message.note !== undefined) {
    const { label, text } = message.note;
    blocks.push({ type: 'section', text: mrkdwn(`*${label}*\n${escapeSlack(text)}`) });
  }
  for (const alarm of message.alarms) {
    const points =
      alarm.datapoints.length === 0 ? '' : `\n\`\`\`${alarm.datapoints.join('\n')}\`\`\``;
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Alarm* ${escapeSlack(alarm.heading)}${points}`),
    });
  }
  if (links !== '') blocks.push({ type: 'context', elements: [mrkdwn(links)] });
  return { text: truncate(lines.join('\n')), blocks };
}
