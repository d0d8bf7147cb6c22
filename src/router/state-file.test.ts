import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlatformError } from '../shared/errors.js';
import { emptyRouterState, withListener } from './router-state.js';
import { StateFile, STATE_FILE_NAME } from './state-file.js';

describe('StateFile', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'phoenix-state-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers an empty table when there is no file yet', async () => {
    expect(await StateFile.in(directory).load()).toEqual(emptyRouterState());
  });

  it('holds the last table saved, leaving no temporary files', async () => {
    const file = StateFile.in(directory);
    const states = [8081, 8082, 8083].map((port) =>
      withListener(emptyRouterState(), { name: 'web', port }),
    );

    for (const state of states) file.save(state);

    expect(await file.load()).toEqual(states[2]);
    expect(readdirSync(directory)).toEqual([STATE_FILE_NAME]);
  });

  it('creates the directory it saves into', async () => {
    const file = StateFile.in(join(directory, 'nested', 'deeper'));

    file.save(emptyRouterState());

    expect(JSON.parse(readFileSync(file.path, 'utf8'))).toEqual(emptyRouterState());
  });

  it.each([
    { case: 'not JSON', text: '{"version": 1,' },
    { case: 'not a routing table', text: '{"version": 1, "listeners": "x", "targetGroups": []}' },
  ])('refuses a damaged file ($case), naming it', async ({ text }) => {
    const file = StateFile.in(directory);
    writeFileSync(file.path, text);

    const loading = file.load();

    await expect(loading).rejects.toBeInstanceOf(PlatformError);
    await expect(loading).rejects.toThrow(`the routing table ${file.path} is damaged`);
  });

  it('fails a save it cannot write with a PlatformError', async () => {
    const blocked = join(directory, 'blocked');
    writeFileSync(blocked, 'a file where a directory should be');
    const bad = StateFile.in(join(blocked, 'inside'));
    const good = StateFile.in(directory);

    expect(() => bad.save(emptyRouterState())).toThrow(PlatformError);
    good.save(emptyRouterState());

    expect(await good.load()).toEqual(emptyRouterState());
  });
});
