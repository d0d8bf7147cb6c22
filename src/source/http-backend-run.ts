import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCgiHead, type CgiHead } from './cgi-response.js';
import { readPushCommands, type PushCommand } from './push-commands.js';

/** Backend output held back while the request body still arrives; more is sent at once. */
const MAX_HELD_OUTPUT_BYTES = 1024 * 1024;
const MAX_CGI_HEAD_BYTES = 64 * 1024;
/** How much of a push to search for its ref update commands (they come first). */
const MAX_COMMANDS_HEAD_BYTES = 1024 * 1024;
const MAX_ERROR_CHARS = 4096;
/** nginx's code for "the client went away before the answer": never sent, only reported. */
export const CLIENT_CLOSED_REQUEST = 499;

export interface HttpBackendRequest {
  request: IncomingMessage;
  response: ServerResponse;
  /** The complete CGI environment: nothing else is inherited. */
  env: NodeJS.ProcessEnv;
  maxBodyBytes: number;
  /** Read the ref update commands at the start of the body (an uncompressed push). */
  readCommands: boolean;
}

export interface BackendResult {
  /** The status the client was sent (413 over the limit, 502 when git misbehaved, 499 gone). */
  status: number;
  error?: string;
  /** The ref updates the push asked for; undefined when they could not be read. */
  commands?: PushCommand[];
}

/**
 * Runs `git http-backend` for one request: streams the body in, parses the CGI head from its
 * output and streams the rest out. Settles once every backend process has exited. The body
 * is cut off (413) past `maxBodyBytes`, and the backend is stopped when the client leaves.
 */
export function runHttpBackend(options: HttpBackendRequest): Promise<BackendResult> {
  return new BackendRun(options).finished;
}

export function respondText(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-cache',
    // The client may still be sending a body nobody will read.
    Connection: 'close',
  });
  response.end(`${message}\n`);
}

/**
 * One `git http-backend` process serving one request. Its answer is held back until the
 * request body has fully arrived, so that a body over the limit can still get a 413.
 */
class BackendRun {
  readonly finished: Promise<BackendResult>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly request: IncomingMessage;
  private readonly response: ServerResponse;
  private output = Buffer.alloc(0);
  private head: CgiHead | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private released = false;
  private bodyEnded = false;
  private clientGone = false;
  private failure: { status: number; message: string } | undefined;
  private received = 0;
  private commandsHead: Buffer | undefined;
  private commands: PushCommand[] | undefined;
  private stderr = '';
  private spawnError: string | undefined;

  constructor(private readonly settings: HttpBackendRequest) {
    this.request = settings.request;
    this.response = settings.response;
    if (settings.readCommands) this.commandsHead = Buffer.alloc(0);
    this.child = spawn('git', ['-c', 'http.receivepack=true', 'http-backend'], {
      env: settings.env,
      stdio: 'pipe',
    });
    this.finished = new Promise((resolveRun) => {
      this.child.on('close', (code) => resolveRun(this.onClose(code)));
    });
    this.child.on('error', (error) => {
      this.spawnError = error.message;
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      if (this.stderr.length < MAX_ERROR_CHARS) this.stderr += text;
    });
    // The backend may stop reading early when it refuses a request; its exit says why.
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.on('data', (chunk: Buffer) => this.onOutput(chunk));
    this.response.on('close', () => this.onResponseClose());
    this.request.on('data', (chunk: Buffer) => this.onRequestData(chunk));
    this.request.on('end', () => {
      this.bodyEnded = true;
      this.maybeRelease();
    });
    this.request.pipe(this.child.stdin);
  }

  private onRequestData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.settings.maxBodyBytes) {
      this.request.unpipe(this.child.stdin);
      this.fail(413, 'Push too large');
      return;
    }
    if (this.commandsHead === undefined) return;
    this.commandsHead = Buffer.concat([this.commandsHead, chunk]);
    const read = readPushCommands(this.commandsHead);
    if (read.kind === 'commands') this.commands = read.commands;
    if (read.kind !== 'incomplete' || this.commandsHead.length > MAX_COMMANDS_HEAD_BYTES) {
      this.commandsHead = undefined;
    }
  }

  private onOutput(chunk: Buffer): void {
    if (this.failure !== undefined || this.clientGone) return;
    if (this.released) {
      this.forward(chunk);
      return;
    }
    if (this.head !== undefined) {
      this.hold(chunk);
      return;
    }
    this.output = Buffer.concat([this.output, chunk]);
    const read = readCgiHead(this.output);
    if (read.kind === 'malformed') {
      this.fail(502, `git http-backend answered badly: ${read.reason}`);
    } else if (read.kind === 'incomplete') {
      if (this.output.length > MAX_CGI_HEAD_BYTES)
        this.fail(502, 'git http-backend headers too long');
    } else {
      this.head = read.head;
      this.output = Buffer.alloc(0);
      this.hold(read.head.rest);
    }
  }

  private hold(chunk: Buffer): void {
    if (chunk.length > 0) this.held.push(chunk);
    this.heldBytes += chunk.length;
    this.maybeRelease();
  }

  /** Sends the answer once the body is in (or the backend is done, or has a lot to say). */
  private maybeRelease(force = false): void {
    const head = this.head;
    if (head === undefined || this.released || this.failure !== undefined || this.clientGone)
      return;
    if (!force && !this.bodyEnded && this.heldBytes <= MAX_HELD_OUTPUT_BYTES) return;
    this.released = true;
    this.response.writeHead(head.status, head.headers.flat());
    for (const chunk of this.held) this.forward(chunk);
    this.held = [];
  }

  private forward(chunk: Buffer): void {
    if (this.response.write(chunk)) return;
    this.child.stdout.pause();
    this.response.once('drain', () => this.child.stdout.resume());
  }

  private fail(status: number, message: string): void {
    if (this.failure !== undefined) return;
    this.failure = { status, message };
    this.child.kill('SIGTERM');
    this.child.stdout.resume();
    if (this.response.headersSent) this.response.destroy();
    else respondText(this.response, status, message);
  }

  private onResponseClose(): void {
    if (this.response.writableFinished) return;
    this.clientGone = true;
    // SIGTERM lets git remove its lock files; it passes the signal on to receive-pack.
    this.child.kill('SIGTERM');
    this.child.stdout.resume();
  }

  private onClose(code: number | null): BackendResult {
    if (!this.released && this.failure === undefined && !this.clientGone) {
      if (this.head !== undefined) this.maybeRelease(true);
      else this.fail(502, this.spawnError ?? 'git http-backend gave no answer');
    }
    if (this.released && !this.clientGone) this.response.end();
    const result: BackendResult = { status: this.status() };
    const error = this.errorText(code);
    if (error !== undefined) result.error = error;
    if (this.commands !== undefined) result.commands = this.commands;
    return result;
  }

  private status(): number {
    if (this.failure !== undefined) return this.failure.status;
    if (this.released && this.head !== undefined) return this.head.status;
    return CLIENT_CLOSED_REQUEST;
  }

  private errorText(code: number | null): string | undefined {
    if (this.failure !== undefined) return this.failure.message;
    if (this.clientGone) return 'client disconnected';
    if (code === 0) return undefined;
    const stderr = this.stderr.trim();
    return stderr === '' ? `git http-backend exited with ${String(code)}` : stderr;
  }
}
