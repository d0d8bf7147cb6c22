/** Shortest value masked: masking "1" or "on" would shred every log line. */
export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

/**
 * Replaces secret values in log lines. Output is masked line by line after lines are
 * assembled, so a secret split across two writes of a process is still caught; a
 * multi-line secret is masked one line at a time.
 */
export class SecretMasker {
  private readonly values: string[];

  constructor(secrets: Iterable<string>) {
    const pieces = new Set<string>();
    for (const secret of secrets) {
      for (const piece of secret.split(/\r?\n/)) {
        if (piece.trim().length >= MIN_SECRET_LENGTH) pieces.add(piece);
      }
    }
    // Longest first, so a secret that contains another is masked whole.
    this.values = [...pieces].sort((a, b) => b.length - a.length);
  }

  mask(line: string): string {
    let masked = line;
    for (const value of this.values) {
      if (masked.includes(value)) masked = masked.split(value).join(MASK);
    }
    return masked;
  }
}
