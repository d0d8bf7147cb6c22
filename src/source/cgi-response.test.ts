import { describe, expect, it } from 'vitest';
import { readCgiHead } from './cgi-response.js';

describe('readCgiHead', () => {
  it('reads the status, the other headers and where the body starts', () => {
    const output = Buffer.from(
      'Expires: Fri, 01 Jan 1980 00:00:00 GMT\r\nStatus: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nbody\r\n\r\nmore',
    );

    const read = readCgiHead(output);

    expect(read).toEqual({
      kind: 'head',
      head: {
        status: 404,
        headers: [
          ['Expires', 'Fri, 01 Jan 1980 00:00:00 GMT'],
          ['Content-Type', 'text/plain'],
        ],
        rest: Buffer.from('body\r\n\r\nmore'),
      },
    });
  });

  it('defaults to 200 and accepts bare line feeds', () => {
    const read = readCgiHead(
      Buffer.from('Content-Type: application/x-git-upload-pack-result\n\nPACK'),
    );

    expect(read.kind === 'head' && read.head.status).toBe(200);
    expect(read.kind === 'head' && read.head.rest.toString()).toBe('PACK');
  });

  it('accepts an empty head', () => {
    expect(readCgiHead(Buffer.from('\r\n\r\nbody'))).toEqual({
      kind: 'head',
      head: { status: 200, headers: [], rest: Buffer.from('body') },
    });
  });

  it.each([
    ['Content-Type: text/plain\r\n', 'incomplete'],
    ['', 'incomplete'],
    ['no colon here\r\n\r\n', 'malformed'],
    ['Status: OK\r\n\r\n', 'malformed'],
    ['Status: 999 Odd\r\n\r\n', 'malformed'],
    ['Bad Name: x\r\n\r\n', 'malformed'],
    ['X-Injected: a\u0000b\r\n\r\n', 'malformed'],
  ])('answers %j with %s', (output, kind) => {
    expect(readCgiHead(Buffer.from(output)).kind).toBe(kind);
  });
});
