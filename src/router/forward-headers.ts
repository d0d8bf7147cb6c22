/**
 * Which headers cross the router, as pure functions over Node's flat raw header lists
 * (`[name, value, name, value...]`, original case and repeats kept).
 */

/** Headers that describe one connection, not the message (RFC 9110 7.6.1), plus Proxy-Connection. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Replaced by the router's own values on the way in. */
const FORWARDED = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-request-id',
]);

/** A request id the router passes on as it is: printable ASCII without spaces, bounded. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export interface ForwardContext {
  /** The client's address as the router's socket saw it. */
  remoteAddress: string | undefined;
  /** The listener's port, for X-Forwarded-Port. */
  listenerPort: number;
  /** A new X-Request-Id, for a request that brings none the router can pass on (see `requestIdOf`). */
  newRequestId(): string;
  /**
   * Keep the client's X-Forwarded-For (appending to it), -Proto, -Host and -Port: only when
   * the router sits behind a proxy that sets them. Otherwise a client could forge them.
   */
  trustForwarded: boolean;
  /** A WebSocket (or other) upgrade: Connection and Upgrade go through. */
  upgrade: boolean;
  /** Host to send when the client sent none (HTTP/1.0): the address it reached. */
  fallbackHost(): string;
}

/**
 * How the request's body is framed: none, a Content-Length, or chunked. The headers never
 * carry Transfer-Encoding: whoever sends the request frames a body of unknown length itself.
 */
export type BodyFraming = 'none' | 'sized' | 'chunked';

export interface UpstreamRequest {
  headers: string[];
  /** The client's X-Request-Id when it can be passed on, otherwise a new one. */
  requestId: string;
  body: BodyFraming;
}

/** The headers to send upstream for a request that arrived with `raw`, and what they say. */
export function upstreamRequest(raw: readonly string[], context: ForwardContext): UpstreamRequest {
  const dropped = connectionTokens(raw);
  const out: string[] = [];
  const incoming = { for: [] as string[], proto: '', host: '', port: '', hostHeader: '' };
  let upgrade = '';
  let body: BodyFraming = 'none';
  let requestId: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (lower === 'host') incoming.hostHeader = value;
    if (lower === 'upgrade') upgrade = value;
    if (lower === 'transfer-encoding') body = 'chunked';
    else if (lower === 'content-length' && body === 'none' && value !== '0') body = 'sized';
    else if (lower === 'x-request-id') requestId ??= requestIdOf(value);
    if (lower === 'x-forwarded-for') incoming.for.push(value);
    else if (lower === 'x-forwarded-proto') incoming.proto ||= value;
    else if (lower === 'x-forwarded-host') incoming.host ||= value;
    else if (lower === 'x-forwarded-port') incoming.port ||= value;
    // Expect: the router answered 100-continue itself; the upstream must not wait for it.
    if (HOP_BY_HOP.has(lower) || FORWARDED.has(lower) || dropped.has(lower) || lower === 'expect') {
      continue;
    }
    out.push(name, value);
  }
  // HTTP/1.1 upstreams may refuse a request without Host (Node does).
  if (incoming.hostHeader === '') out.push('Host', context.fallbackHost());
  const client = clientAddress(context.remoteAddress);
  const trusted = context.trustForwarded;
  const chain = trusted ? [...incoming.for, client].filter((part) => part !== '') : [client];
  out.push('X-Forwarded-For', chain.join(', '));
  out.push('X-Forwarded-Proto', (trusted && incoming.proto) || 'http');
  const host = (trusted && incoming.host) || incoming.hostHeader;
  if (host !== '') out.push('X-Forwarded-Host', host);
  out.push('X-Forwarded-Port', (trusted && incoming.port) || String(context.listenerPort));
  requestId ??= context.newRequestId();
  out.push('X-Request-Id', requestId);
  if (context.upgrade && upgrade !== '') out.push('Connection', 'upgrade', 'Upgrade', upgrade);
  return { headers: out, requestId, body };
}

/** The response headers to send to the client: hop-by-hop ones stay behind. */
export function downstreamResponseHeaders(raw: readonly string[]): string[] {
  const dropped = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower)) continue;
    out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

/** The client's X-Request-Id when it is one the router can pass on safely. */
export function requestIdOf(value: string | string[] | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value;
  return id !== undefined && REQUEST_ID.test(id) ? id : undefined;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) as `10.0.0.1`. */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '';
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.')
    ? remoteAddress.slice('::ffff:'.length)
    : remoteAddress;
}

/** Header names a Connection header lists: hop-by-hop for this message too. */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] ?? '').split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}
