import { describe, expect, it } from 'vitest';
import type { LogLine } from '../build/build-log.js';
import { parseStoredLog, StageLogJoin, storedForm } from './log-catch-up.js';

const T0 = Date.parse('2030-01-02T03:04:05.000Z');

function lines(...texts: string[]): LogLine[] {
  return texts.map((text, index) => ({ time: T0 + index, stream: 'stdout', text }));
}

describe('parseStoredLog', () => {
  it('reads back what the build log stores, stream by stream', () => {
    const written: LogLine[] = [
      { time: T0, stream: 'system', text: 'Entering phase BUILD' },
      { time: T0 + 1, stream: 'stdout', text: 'npm test' },
      { time: T0 + 2, stream: 'stderr', text: 'warning: x' },
      { time: T0 + 3, stream: 'stdout', text: '' },
    ];

    const read = parseStoredLog(`${written.map(storedForm).join('\n')}\n`);

    expect(read).toEqual(written);
  });

  it('keeps a line that is not in the format as stdout', () => {
    expect(parseStoredLog('plain text\n')).toEqual([
      { time: 0, stream: 'stdout', text: 'plain text' },
    ]);
  });
});

describe('StageLogJoin', () => {
  it('skips live lines the catch-up showed, then shows new ones', () => {
    const join = new StageLogJoin();
    const [a, b, c, d] = lines('a', 'b', 'c', 'd') as [LogLine, LogLine, LogLine, LogLine];

    const caughtUp = join.catchUp([a, b, c]);
    const shown = [b, c, d].filter((line) => join.live(line));

    expect(caughtUp).toEqual([a, b, c]);
    expect(shown).toEqual([d]);
  });

  it('shows repeated identical lines as often as they were written', () => {
    const join = new StageLogJoin();
    const line: LogLine = { time: T0, stream: 'stdout', text: '.' };

    join.catchUp([line]);
    const shown = [line, line, line].filter((live) => join.live(live));

    expect(shown).toHaveLength(2);
  });

  it('shows only the stored lines it has not shown on a later catch-up', () => {
    const join = new StageLogJoin();
    const all = lines('a', 'b', 'c', 'd', 'e');

    join.catchUp(all.slice(0, 2));
    join.live(all[2] as LogLine);
    const again = join.catchUp(all);

    expect(again.map((line) => line.text)).toEqual(['d', 'e']);
  });
});
