import type { EventMessage } from './event-message.js';

/** An email's subject and its plain-text and simple HTML bodies, from the same facts. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Line breaks in a subject would end the header; callers' strings never get to add one. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function renderEmail(message: EventMessage, subjectPrefix: string): EmailContent {
  const prefix = subjectPrefix === '' ? '' : `${subjectPrefix} `;
  return {
    subject: oneLine(`${prefix}${message.title}`),
    text: renderText(message),
    html: renderHtml(message),
  };
}

function renderText(message: EventMessage): string {
  const width = Math.max(0, ...message.fields.map((field) => field.label.length)) + 2;
  const lines = [message.title, ''];
  for (const field of message.fields)
    lines.push(`${`${field.label}:`.padEnd(width)}${field.value}`);
  if (message.note !== undefined)
    lines.push('', `${message.note.label}:`, indent(message.note.text));
  for (const alarm of message.alarms) {
    lines.push('', `Alarm ${alarm.heading}`, ...alarm.datapoints.map((point) => `  ${point}`));
  }
  if (message.links.length > 0) {
    lines.push('', 'Links:', ...message.links.map((link) => `  ${link.label}: ${link.url}`));
  }
  lines.push('', '-- ', 'Sent by Phoenix');
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => `  ${line}`)
    .join('\n');
}

function renderHtml(message: EventMessage): string {
  const parts = [`<h2>${escapeHtml(message.title)}</h2>`];
  if (message.fields.length > 0) {
    const rows = message.fields.map(
      (field) =>
        `<tr><th align="left">${escapeHtml(field.label)}</th><td>${escapeHtml(field.value)}</td></tr>`,
    );
    parts.push(`<table>${rows.join('')}</table>`);
  }
  if (message.note !== undefined) {
    const { label, text } = message.note;
    parts.push(`<p><strong>${escapeHtml(label)}</strong><br>${escapeHtml(text)}</p>`);
  }
  for (const alarm of message.alarms) {
    parts.push(`<p><strong>Alarm</strong> ${escapeHtml(alarm.heading)}</p>`);
    if (alarm.datapoints.length > 0)
      parts.push(`<pre>${escapeHtml(alarm.datapoints.join('\n'))}</pre>`);
  }
  if (message.links.length > 0) {
    const items = message.links.map(
      (link) => `<li><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></li>`,
    );
    parts.push(`<ul>${items.join('')}</ul>`);
  }
  return `<!doctype html><html><body>${parts.join('\n')}</body></html>\n`;
}
