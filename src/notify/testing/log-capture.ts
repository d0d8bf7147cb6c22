import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/logger.js';

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogs(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger({ level: 'warn', destination });
  const lines = () =>
    written
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines };
}
