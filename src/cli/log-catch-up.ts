import type { LogLine } from '../build/build-log.js';

/** Live lines older than the newest stored one by more than this cannot be at the seam. */
const SEAM_WINDOW_MS = 5000;

const STORED_LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)( ! | \[Phoenix\] | )(.*)$/;

/** A log line as the build log file stores it (see BuildLog.write): the form to compare. */
export function storedForm(line: LogLine): string {
  const prefix = line.stream === 'stderr' ? ' ! ' : line.stream === 'system' ? ' [Phoenix] ' : ' ';
  return `${new Date(line.time).toISOString()}${prefix}${line.text}`;
}

/** A stored log (`GET /api/runs/:id/logs`) back into lines; lines not in the format are stdout. */
export function parseStoredLog(text: string): LogLine[] {
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  let time = 0;
  return rows.map((row): LogLine => {
    const match = STORED_LINE.exec(row);
    if (match === null) return { time, stream: 'stdout', text: row };
    const [, iso = '', prefix = ' ', rest = ''] = match;
    time = Date.parse(iso);
    const stream = prefix === ' ! ' ? 'stderr' : prefix === ' ' ? 'stdout' : 'system';
    return { time, stream, text: rest };
  });
}

/**
 * Joins a stage's stored log and its live lines without gaps or repeats. Live lines only
 * exist from the moment a client subscribes, so a client arriving late fetches the stored
 * log; the lines that arrived live while it was fetched are in both. The stored log is in
 * the order lines were produced, so the lines shown so far are always a prefix of it.
 */
export class StageLogJoin {
  /** How many lines of the stored log have been shown (their position in it). */
  private shown = 0;
  /** The stored log's last lines, in their stored form: live lines matching them are repeats. */
  private seam: string[] = [];

  /** The stored lines not shown yet; call with the whole stored log at each (re)connection. */
  catchUp(stored: readonly LogLine[]): LogLine[] {
    const fresh = stored.slice(this.shown);
    this.shown = Math.max(this.shown, stored.length);
    const last = stored.at(-1);
    this.seam =
      last === undefined
        ? []
        : stored.filter((line) => line.time >= last.time - SEAM_WINDOW_MS).map(storedForm);
    return fresh;
  }

  /** Whether a live line is new (show it) rather than one the catch-up already showed. */
  live(line: LogLine): boolean {
    if (this.seam.length > 0) {
      const at = this.seam.indexOf(storedForm(line));
      if (at !== -1) {
        this.seam.splice(0, at + 1);
        return false;
      }
      this.seam = [];
    }
    this.shown++;
    return true;
  }
}
