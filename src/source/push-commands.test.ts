import { describe, expect, it } from 'vitest';
import { readPushCommands } from './push-commands.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const ZERO = '0'.repeat(40);

function pkt(text: string): string {
  return (text.length + 4).toString(16).padStart(4, '0') + text;
}

describe('readPushCommands', () => {
  it('reads every command before the flush, ignoring capabilities and the pack after it', () => {
    const body = Buffer.concat([
      Buffer.from(pkt(`${A} ${B} refs/heads/main\0report-status side-band-64k agent=git/2.39\n`)),
      Buffer.from(pkt(`${ZERO} ${A} refs/tags/v1\n`)),
      Buffer.from(pkt(`${B} ${ZERO} refs/heads/old\n`)),
      Buffer.from('0000PACK\0\0\0\x02'),
    ]);

    expect(readPushCommands(body)).toEqual({
      kind: 'commands',
      commands: [
        { ref: 'refs/heads/main', before: A, after: B },
        { ref: 'refs/tags/v1', before: ZERO, after: A },
        { ref: 'refs/heads/old', before: B, after: ZERO },
      ],
    });
  });

  it('skips shallow lines', () => {
    const body = Buffer.from(
      pkt(`shallow ${A}\n`) + pkt(`${A} ${B} refs/heads/main\0caps\n`) + '0000',
    );

    expect(readPushCommands(body)).toEqual({
      kind: 'commands',
      commands: [{ ref: 'refs/heads/main', before: A, after: B }],
    });
  });

  it('reads git’s probe request as asking for nothing', () => {
    expect(readPushCommands(Buffer.from('0000'))).toEqual({ kind: 'commands', commands: [] });
  });

  it.each([
    ['', 'incomplete'],
    ['00', 'incomplete'],
    [pkt(`${A} ${B} refs/heads/main\n`), 'incomplete'],
    [pkt(`${A} ${B} refs/heads/main\n`).slice(0, 30), 'incomplete'],
    ['zzzz', 'unreadable'],
    ['0003', 'unreadable'],
    [pkt('push-cert\0caps\n') + pkt('certificate version 0.1\n'), 'unreadable'],
    [pkt(`${A} ${B}\n`) + '0000', 'unreadable'],
    [pkt(`${A.slice(1)} ${B} refs/heads/main\n`) + '0000', 'unreadable'],
  ])('answers %j with %s', (body, kind) => {
    expect(readPushCommands(Buffer.from(body)).kind).toBe(kind);
  });
});
