import { describe, expect, it } from 'vitest';
import { MAX_FAST_HEAD_BYTES, parseFastRequest } from './fast-request.js';

const head = (...lines: string[]): string => lines.join('\r\n');

describe('parseFastRequest', () => {
  it('reads a plain GET: method, target, headers as sent, values trimmed', () => {
    const parsed = parseFastRequest(
      head('GET /items?page=2 HTTP/1.1', 'Host: shop.example', 'Accept:  */* ', 'X-A: 1'),
    );

    expect(parsed).toEqual({
      method: 'GET',
      url: '/items?page=2',
      rawHeaders: ['Host', 'shop.example', 'Accept', '*/*', 'X-A', '1'],
      close: false,
    });
  });

  it.each([
    { case: 'HEAD', line: 'HEAD / HTTP/1.1' },
    { case: 'DELETE', line: 'DELETE /items/1 HTTP/1.1' },
    { case: 'OPTIONS', line: 'OPTIONS /items HTTP/1.1' },
  ])('takes body-less methods: $case', ({ line }) => {
    expect(parseFastRequest(head(line, 'Host: a'))).toBeDefined();
  });

  it.each([
    { case: 'Connection: close', value: 'close', close: true },
    { case: 'Connection: keep-alive', value: 'keep-alive', close: false },
    { case: 'a token list with close', value: 'TE, Close', close: true },
  ])('notes whether the client closes: $case', ({ value, close }) => {
    expect(
      parseFastRequest(head('GET / HTTP/1.1', 'Host: a', `Connection: ${value}`)),
    ).toMatchObject({ close });
  });

  it('accepts Content-Length: 0 and obs-text in a value', () => {
    const parsed = parseFastRequest(
      head('DELETE /x HTTP/1.1', 'Host: a', 'Content-Length: 0', 'X-Name: caf\xe9'),
    );

    expect(parsed?.rawHeaders).toContain('caf\xe9');
  });

  it.each([
    { case: 'a body by length', lines: ['GET / HTTP/1.1', 'Host: a', 'Content-Length: 5'] },
    { case: 'a chunked body', lines: ['GET / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'] },
    { case: 'a POST', lines: ['POST / HTTP/1.1', 'Host: a'] },
    { case: 'a PUT', lines: ['PUT /x HTTP/1.1', 'Host: a'] },
    { case: 'an unknown method', lines: ['BREW / HTTP/1.1', 'Host: a'] },
    { case: 'a lower-case method', lines: ['get / HTTP/1.1', 'Host: a'] },
    { case: 'HTTP/1.0', lines: ['GET / HTTP/1.0', 'Host: a'] },
    { case: 'HTTP/2 preface', lines: ['PRI * HTTP/2.0'] },
    { case: 'an absolute URL', lines: ['GET http://a/ HTTP/1.1', 'Host: a'] },
    { case: 'asterisk form', lines: ['OPTIONS * HTTP/1.1', 'Host: a'] },
    { case: 'a space in the target', lines: ['GET /a b HTTP/1.1', 'Host: a'] },
    { case: 'a raw non-ASCII target', lines: ['GET /caf\xe9 HTTP/1.1', 'Host: a'] },
    { case: 'no version', lines: ['GET /', 'Host: a'] },
    { case: 'no Host', lines: ['GET / HTTP/1.1', 'Accept: */*'] },
    { case: 'two Hosts', lines: ['GET / HTTP/1.1', 'Host: a', 'Host: b'] },
    { case: 'an upgrade', lines: ['GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket'] },
    { case: 'Connection: upgrade', lines: ['GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade'] },
    { case: 'Expect', lines: ['GET / HTTP/1.1', 'Host: a', 'Expect: 100-continue'] },
    { case: 'h2c', lines: ['GET / HTTP/1.1', 'Host: a', 'HTTP2-Settings: AAA'] },
    { case: 'obs-fold', lines: ['GET / HTTP/1.1', 'Host: a', 'X-A: 1', ' continued'] },
    { case: 'a space before the colon', lines: ['GET / HTTP/1.1', 'Host : a'] },
    { case: 'an empty name', lines: ['GET / HTTP/1.1', 'Host: a', ': x'] },
    { case: 'no colon', lines: ['GET / HTTP/1.1', 'Host: a', 'Garbage'] },
    { case: 'a bare LF in a value', lines: ['GET / HTTP/1.1', 'Host: a', 'X-A: 1\nX-B: 2'] },
    { case: 'a bare CR in a value', lines: ['GET / HTTP/1.1', 'Host: a', 'X-A: 1\rX'] },
    { case: 'a NUL in a value', lines: ['GET / HTTP/1.1', 'Host: a', 'X-A: 1\0'] },
    { case: 'a DEL in a value', lines: ['GET / HTTP/1.1', 'Host: a', 'X-A: \x7f'] },
    { case: 'a non-token name', lines: ['GET / HTTP/1.1', 'Host: a', 'X(A): 1'] },
    { case: 'an empty header line', lines: ['GET / HTTP/1.1', 'Host: a', '', 'X: 1'] },
  ])('hands over $case', ({ lines }) => {
    expect(parseFastRequest(head(...lines))).toBeUndefined();
  });

  it('hands over a head past the size limit and more than 100 headers', () => {
    const big = head('GET / HTTP/1.1', 'Host: a', `X-Big: ${'x'.repeat(MAX_FAST_HEAD_BYTES)}`);
    const many = head(
      'GET / HTTP/1.1',
      'Host: a',
      ...Array.from({ length: 100 }, (_, i) => `X-${i}: 1`),
    );

    expect(parseFastRequest(big)).toBeUndefined();
    expect(parseFastRequest(many)).toBeUndefined();
  });
});
