/**
 * Reads the ref update commands at the start of a receive-pack request body (pkt-lines:
 * `<old> <new> <ref>` ... flush, then the pack). Phoenix uses them only to tell which refs
 * one push asked to change, so that concurrent pushes to one repository do not report each
 * other's updates. Anything unexpected answers 'unreadable' and callers fall back to
 * reporting every ref that changed.
 */

export interface PushCommand {
  ref: string;
  before: string;
  after: string;
}

export type PushCommandsResult =
  { kind: 'commands'; commands: PushCommand[] } | { kind: 'incomplete' } | { kind: 'unreadable' };

const COMMAND = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (\S+)$/;

export function readPushCommands(head: Buffer): PushCommandsResult {
  const commands: PushCommand[] = [];
  let offset = 0;
  for (;;) {
    if (head.length < offset + 4) return { kind: 'incomplete' };
    const lengthText = head.toString('latin1', offset, offset + 4);
    if (!/^[0-9a-f]{4}$/.test(lengthText)) return { kind: 'unreadable' };
    const length = Number.parseInt(lengthText, 16);
    // A flush with no commands before it is git's probe request: it asks for nothing.
    if (length === 0) return { kind: 'commands', commands };
    if (length < 4) return { kind: 'unreadable' };
    if (head.length < offset + length) return { kind: 'incomplete' };
    const line = readLine(head.subarray(offset + 4, offset + length));
    offset += length;
    if (line.startsWith('shallow ')) continue;
    const match = COMMAND.exec(line);
    // A signed push (push-cert) carries its commands inside the certificate: not read here.
    if (match === null) return { kind: 'unreadable' };
    const [, before = '', after = '', ref = ''] = match;
    commands.push({ ref, before, after });
  }
}

/** The text before the capabilities (after NUL) and without the trailing newline. */
function readLine(payload: Buffer): string {
  const nul = payload.indexOf(0);
  const text = payload.toString('utf8', 0, nul === -1 ? payload.length : nul);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
