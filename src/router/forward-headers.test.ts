import { describe, expect, it } from 'vitest';
import {
  clientAddress,
  downstreamResponseHeaders,
  requestIdOf,
  upstreamRequest,
  type ForwardContext,
} from './forward-headers.js';

const CONTEXT: ForwardContext = {
  remoteAddress: '::ffff:192.0.2.7',
  listenerPort: 8080,
  newRequestId: () => 'req-1',
  trustForwarded: false,
  upgrade: false,
  fallbackHost: () => '127.0.0.1:8080',
};

function upstreamRequestHeaders(raw: readonly string[], context: ForwardContext): string[] {
  return upstreamRequest(raw, context).headers;
}

/** The raw list as name → values, lower-cased, for readable expectations. */
function asMap(raw: readonly string[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    (map[name] ??= []).push(raw[i + 1] ?? '');
  }
  return map;
}

describe('upstreamRequestHeaders', () => {
  it.each([
    {
      case: 'an untrusted client: forwarded headers replaced',
      raw: ['Host', 'shop.example', 'X-Forwarded-For', '203.0.113.1', 'X-Forwarded-Proto', 'https'],
      context: CONTEXT,
      expected: {
        'x-forwarded-for': ['192.0.2.7'],
        'x-forwarded-proto': ['http'],
        'x-forwarded-host': ['shop.example'],
        'x-forwarded-port': ['8080'],
      },
    },
    {
      case: 'a trusted proxy in front: the chain is extended, its values kept',
      raw: [
        'Host',
        'internal:8080',
        'X-Forwarded-For',
        '203.0.113.1',
        'X-Forwarded-For',
        '198.51.100.2',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'shop.example',
        'X-Forwarded-Port',
        '443',
      ],
      context: { ...CONTEXT, trustForwarded: true },
      expected: {
        'x-forwarded-for': ['203.0.113.1, 198.51.100.2, 192.0.2.7'],
        'x-forwarded-proto': ['https'],
        'x-forwarded-host': ['shop.example'],
        'x-forwarded-port': ['443'],
      },
    },
    {
      case: 'a trusted proxy that set nothing: the router fills in',
      raw: ['Host', 'shop.example'],
      context: { ...CONTEXT, trustForwarded: true },
      expected: { 'x-forwarded-for': ['192.0.2.7'], 'x-forwarded-proto': ['http'] },
    },
  ])('$case', ({ raw, context, expected }) => {
    const headers = asMap(upstreamRequestHeaders(raw, context));

    expect(headers).toMatchObject(expected);
  });

  it.each([
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['Proxy-Connection', 'keep-alive'],
    ['Proxy-Authorization', 'Basic eA=='],
    ['TE', 'trailers'],
    ['Trailer', 'Expires'],
    ['Upgrade', 'h2c'],
    ['Expect', '100-continue'],
    ['X-Request-Id', 'bad id with spaces'],
  ])('drops %s', (name, value) => {
    const headers = asMap(upstreamRequestHeaders([name, value, 'Accept', '*/*'], CONTEXT));

    expect(headers[name.toLowerCase()] ?? []).not.toContain(value);
    expect(headers['accept']).toEqual(['*/*']);
  });

  it('drops the headers a Connection header names, and keeps repeats of others in order', () => {
    const raw = [
      'Connection',
      'close, X-Secret',
      'X-Secret',
      '1',
      'Cookie',
      'a=1',
      'Cookie',
      'b=2',
    ];

    const headers = asMap(upstreamRequestHeaders(raw, CONTEXT));

    expect(headers['x-secret']).toBeUndefined();
    expect(headers['cookie']).toEqual(['a=1', 'b=2']);
  });

  it('sends the address the client reached as Host when it sent none', () => {
    const headers = asMap(upstreamRequestHeaders(['Accept', '*/*'], CONTEXT));

    expect(headers['host']).toEqual(['127.0.0.1:8080']);
    expect(headers['x-forwarded-host']).toBeUndefined();
  });

  it.each([
    { case: 'no body', raw: ['Accept', '*/*'], body: 'none' },
    { case: 'an empty sized body', raw: ['Content-Length', '0'], body: 'none' },
    { case: 'a sized body', raw: ['Content-Length', '12'], body: 'sized' },
    { case: 'a chunked body', raw: ['Transfer-Encoding', 'chunked'], body: 'chunked' },
  ])('says how the body is framed: $case', ({ raw, body }) => {
    const request = upstreamRequest(raw, CONTEXT);

    expect(request.body).toBe(body);
    expect(asMap(request.headers)['transfer-encoding']).toBeUndefined();
  });

  it.each([
    { case: 'a valid client id is passed on', raw: ['X-Request-Id', 'client-id'], id: 'client-id' },
    { case: 'an unsafe one is replaced', raw: ['X-Request-Id', 'a b'], id: 'req-1' },
    { case: 'none gets a new one', raw: [], id: 'req-1' },
    {
      case: 'the first valid one of several wins',
      raw: ['X-Request-Id', 'bad id', 'X-Request-Id', 'second'],
      id: 'second',
    },
  ])('keeps or makes the request id: $case', ({ raw, id }) => {
    const request = upstreamRequest(raw, CONTEXT);

    expect(request.requestId).toBe(id);
    expect(asMap(request.headers)['x-request-id']).toEqual([id]);
  });

  it('keeps Connection: upgrade and Upgrade for an upgrade request', () => {
    const raw = ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];

    const headers = asMap(upstreamRequestHeaders(raw, { ...CONTEXT, upgrade: true }));

    expect(headers).toMatchObject({
      connection: ['upgrade'],
      upgrade: ['websocket'],
      'sec-websocket-key': ['k'],
    });
  });
});

describe('downstreamResponseHeaders', () => {
  it('drops hop-by-hop headers and those the Connection header names', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Connection',
      'keep-alive, X-Debug',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'X-Debug',
      '1',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ];

    const headers = downstreamResponseHeaders(raw);

    expect(headers).toEqual([
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ]);
  });
});

describe('request ids and client addresses', () => {
  it.each([
    { value: 'abc-123', expected: 'abc-123' },
    { value: ['first', 'second'], expected: 'first' },
    { value: 'has space', expected: undefined },
    { value: 'x'.repeat(201), expected: undefined },
    { value: undefined, expected: undefined },
  ])('requestIdOf($value) is $expected', ({ value, expected }) => {
    expect(requestIdOf(value)).toBe(expected);
  });

  it.each([
    { remote: '::ffff:10.0.0.1', expected: '10.0.0.1' },
    { remote: '::1', expected: '::1' },
    { remote: '2001:db8::1', expected: '2001:db8::1' },
    { remote: undefined, expected: '' },
  ])('clientAddress($remote) is $expected', ({ remote, expected }) => {
    expect(clientAddress(remote)).toBe(expected);
  });
});
