import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isSameProcessAlive, parseProcessStat, readProcessStat } from './proc.js';

describe('/proc readers', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const fields = ['S', '1', '4242', '4242', '0', '-1', '4194560', '0', '0', '0', '0'];
    const times = ['150', '50', '0', '0', '20', '0', '1', '0', '987654'];
    const text = `4243 (my (weird) app) ${[...fields, ...times, '1000', '200'].join(' ')}\n`;

    expect(parseProcessStat(text)).toEqual({
      pid: 4243,
      state: 'S',
      processGroup: 4242,
      cpuTicks: 200,
      startTime: 987654,
    });
  });

  it('tells a live process from one that merely has its pid', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const stat = await readProcessStat(pid);

    const same = await isSameProcessAlive(pid, stat?.startTime ?? -1);
    const other = await isSameProcessAlive(pid, (stat?.startTime ?? 0) + 1);
    child.kill('SIGKILL');
    await exited;
    const afterExit = await isSameProcessAlive(pid, stat?.startTime ?? -1);

    expect([same, other, afterExit]).toEqual([true, false, false]);
  });
});
