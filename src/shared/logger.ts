import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where Phoenix's own structured logs go; build output never goes through here. */
  destination?: NodeJS.WritableStream;
}

/** Phoenix's own diagnostics: structured JSON lines with static messages. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['PHOENIX_LOG_LEVEL'] ?? 'warn';
  return pino({ level, base: undefined }, options.destination ?? process.stderr);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
