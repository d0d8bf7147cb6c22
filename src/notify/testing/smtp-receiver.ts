import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Header names in lower case, folded lines joined. */
  headers: Map<string, string>;
  text: string;
  html: string;
}

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1, port 0, without TLS. It
 * accepts `user`/`password` when given, and takes each message apart into headers and the
 * text and HTML parts. Tests wait on `mail(n)`.
 */
export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  private readonly waiters: { n: number; resolve: (mail: ReceivedMail) => void }[] = [];
  private readonly server: SMTPServer;
  port = 0;

  private constructor(credentials: { user: string; password: string } | undefined) {
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: credentials === undefined ? ['STARTTLS', 'AUTH'] : ['STARTTLS'],
      authOptional: credentials === undefined,
      allowInsecureAuth: true,
      logger: false,
      disableReverseLookup: true,
      onAuth(auth, _session, callback) {
        if (
          credentials !== undefined &&
          auth.username === credentials.user &&
          auth.password === credentials.password
        ) {
          callback(null, { user: auth.username });
          return;
        }
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const mailFrom = session.envelope.mailFrom;
          this.received({
            from: mailFrom === false ? '' : mailFrom.address,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            ...parseMessage(Buffer.concat(chunks).toString('utf8')),
          });
          callback();
        });
      },
    });
  }

  static async start(credentials?: { user: string; password: string }): Promise<SmtpReceiver> {
    const receiver = new SmtpReceiver(credentials);
    const listening = receiver.server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    receiver.port = (listening.address() as AddressInfo).port;
    return receiver;
  }

  mail(n: number): Promise<ReceivedMail> {
    const done = this.mails[n - 1];
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(resolve));
  }

  private received(mail: ReceivedMail): void {
    this.mails.push(mail);
    for (const waiter of [...this.waiters]) {
      if (waiter.n !== this.mails.length) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(mail);
    }
  }
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function split(part: string): { headers: Map<string, string>; body: string } {
  const end = part.indexOf('\r\n\r\n');
  return { headers: parseHeaders(part.slice(0, end)), body: part.slice(end + 4) };
}

function decode(headers: Map<string, string>, body: string): string {
  if (headers.get('content-transfer-encoding') !== 'quoted-printable') return body;
  const bytes = body
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Enough MIME for nodemailer's text + HTML messages: one multipart/alternative level. */
function parseMessage(raw: string): Pick<ReceivedMail, 'headers' | 'text' | 'html'> {
  const { headers, body } = split(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const parts = boundary === undefined ? [raw] : body.split(`--${boundary}`).slice(1, -1);
  const found = { text: '', html: '' };
  for (const part of parts) {
    const section = split(part.replace(/^\r\n/, ''));
    const type = section.headers.get('content-type') ?? '';
    const content = decode(section.headers, section.body).replace(/\r\n$/, '');
    if (type.startsWith('text/plain')) found.text = content.replace(/\r\n/g, '\n');
    if (type.startsWith('text/html')) found.html = content.replace(/\r\n/g, '\n');
  }
  return { headers, ...found };
}
