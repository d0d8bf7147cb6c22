import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { SecretMasker } from './secret-masker.js';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogLine {
  /** Milliseconds since the epoch, taken when the line was complete. */
  time: number;
  stream: LogStream;
  text: string;
}

export type LogListener = (line: LogLine) => void;

/**
 * A build's log: every line timestamped as it is produced, secrets masked before the line
 * reaches anyone, written to the build's log file and handed to live listeners (terminal,
 * later the API's event stream).
 */
export class BuildLog {
  private readonly file: WriteStream;
  private readonly listeners: LogListener[] = [];

  constructor(
    readonly path: string,
    private masker: SecretMasker,
    private readonly now: () => number = Date.now,
  ) {
    this.file = createWriteStream(path, { flags: 'a', mode: 0o600 });
  }

  /** Secrets become known after the log starts (they are resolved from the buildspec). */
  maskWith(masker: SecretMasker): void {
    this.masker = masker;
  }

  subscribe(listener: LogListener): void {
    this.listeners.push(listener);
  }

  write(stream: LogStream, text: string): void {
    const line: LogLine = { time: this.now(), stream, text: this.masker.mask(text) };
    const prefix = stream === 'stderr' ? ' ! ' : stream === 'system' ? ' [Phoenix] ' : ' ';
    this.file.write(`${new Date(line.time).toISOString()}${prefix}${line.text}\n`);
    for (const listener of this.listeners) listener(line);
  }

  system(text: string): void {
    this.write('system', text);
  }

  async close(): Promise<void> {
    this.file.end();
    await once(this.file, 'close');
  }
}
