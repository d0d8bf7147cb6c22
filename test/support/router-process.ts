import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './server-process.js';

/** A real `phoenix router` process; stopped by the test that started it. */
export class RouterProcess {
  readonly child: ChildProcess;
  /** The admin API's URL, once it listens. */
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output = '';

  constructor(env: Record<string, string>, adminPort: number) {
    this.child = spawn(process.execPath, [CLI, 'router', '--admin-port', String(adminPort)], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    this.url = new Promise((resolve, reject) => {
      this.child.stdout?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
        const match = /Phoenix router (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
      void this.exited.then(() =>
        reject(new Error(`phoenix router exited before listening:\n${this.output}`)),
      );
    });
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
