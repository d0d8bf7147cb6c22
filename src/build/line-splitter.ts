import { StringDecoder } from 'node:string_decoder';

/** Longest line kept whole; longer output is passed on in pieces so memory stays bounded. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Turns a byte stream into lines: UTF-8 characters split across chunks stay whole, CRLF loses
 * its CR, and a last line without a newline is flushed at the end.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline = this.buffer.indexOf('\n');
    while (newline !== -1) {
      this.emit(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
    }
    while (this.buffer.length > MAX_LINE_LENGTH) {
      this.onLine(this.buffer.slice(0, MAX_LINE_LENGTH));
      this.buffer = this.buffer.slice(MAX_LINE_LENGTH);
    }
  }

  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer.length > 0) this.emit(this.buffer);
    this.buffer = '';
  }

  private emit(line: string): void {
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}
