import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A real `phoenix server` process on a free port; stopped by the test that started it. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output = '';

  constructor(env: Record<string, string>, args: readonly string[] = []) {
    this.child = spawn(process.execPath, [CLI, 'server', '--port', '0', ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    this.url = new Promise((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        this.output += chunk.toString();
        const match = /Phoenix (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output);
        if (match?.[1] !== undefined) resolve(match[1]);
      };
      this.child.stdout?.on('data', onData);
      this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
      void this.exited.then(() =>
        reject(new Error(`phoenix server exited before listening:\n${this.output}`)),
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

/** Reads a server-sent event stream until `until` says stop; returns every event seen. */
export async function readEvents(
  url: string,
  token: string,
  until: (event: { event: string; data: string }) => boolean,
): Promise<{ event: string; data: string }[]> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  if (response.body === null) throw new Error(`no event stream from ${url}: ${response.status}`);
  const decoder = new TextDecoder();
  const events: { event: string; data: string }[] = [];
  let buffer = '';
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n');
        if (!block.startsWith(':')) {
          events.push({ event, data });
          if (until({ event, data })) {
            controller.abort();
            return events;
          }
        }
        end = buffer.indexOf('\n\n');
      }
    }
  } catch (error) {
    // Aborting our own request ends the loop with an AbortError: that is the normal way out.
    if (!controller.signal.aborted) throw error;
  }
  return events;
}

/**
 * Kills every build process whose workspace is below `root`: a test that fails before its
 * control plane reaps them (after a SIGKILLed server, say) must not leave them running.
 */
export async function reapBuildsUnder(root: string): Promise<void> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').some((line) => line.startsWith(`CODEBUILD_SRC_DIR=${root}`))) {
        process.kill(Number(entry), 'SIGKILL');
      }
    } catch {
      // Gone already, or not ours.
    }
  }
}
