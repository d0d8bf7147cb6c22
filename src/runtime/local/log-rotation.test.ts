import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/git-fixture.js';
import { rotateLogIfLarge } from './log-rotation.js';

describe('rotateLogIfLarge', () => {
  let dir: ReturnType<typeof tempDir>;
  let log: string;
  const rotation = { maxBytes: 10, keep: 2, checkIntervalMs: 1_000 };

  beforeEach(() => {
    dir = tempDir();
    log = join(dir.path, 'app.log');
  });

  afterEach(() => dir.remove());

  it('leaves a small log alone and ignores a missing one', async () => {
    writeFileSync(log, 'short\n');

    const rotated = await rotateLogIfLarge(log, rotation);
    const missing = await rotateLogIfLarge(join(dir.path, 'none.log'), rotation);

    expect([rotated, missing]).toEqual([false, false]);
    expect(readFileSync(log, 'utf8')).toBe('short\n');
  });

  it('shifts older copies up and keeps only `keep` of them', async () => {
    for (const generation of ['one', 'two', 'three']) {
      writeFileSync(log, `${generation} is a long line\n`);
      await rotateLogIfLarge(log, rotation);
    }

    expect(readFileSync(log, 'utf8')).toBe('');
    expect(readFileSync(`${log}.1`, 'utf8')).toBe('three is a long line\n');
    expect(readFileSync(`${log}.2`, 'utf8')).toBe('two is a long line\n');
    expect(existsSync(`${log}.3`)).toBe(false);
  });
});
