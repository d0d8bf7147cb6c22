/**
 * The header block a CGI program (here `git http-backend`) writes before its body:
 * `Name: value` lines, an optional `Status: 404 Not Found`, then an empty line.
 */
export interface CgiHead {
  status: number;
  headers: [string, string][];
  /** Bytes after the blank line: the start of the body. */
  rest: Buffer;
}

export type CgiHeadResult =
  { kind: 'head'; head: CgiHead } | { kind: 'incomplete' } | { kind: 'malformed'; reason: string };

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const HEADER_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;

export function readCgiHead(output: Buffer): CgiHeadResult {
  const end = headEnd(output);
  if (end === undefined) return { kind: 'incomplete' };
  let status = 200;
  const headers: [string, string][] = [];
  const lines = end.index === 0 ? [] : output.toString('latin1', 0, end.index).split(/\r?\n/);
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0)
      return { kind: 'malformed', reason: `not a header line: ${JSON.stringify(line)}` };
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      return { kind: 'malformed', reason: `bad header ${JSON.stringify(line)}` };
    }
    if (name.toLowerCase() === 'status') {
      const code = Number.parseInt(value, 10);
      if (!/^\d{3}(\s|$)/.test(value) || code < 100 || code > 599) {
        return { kind: 'malformed', reason: `bad status ${JSON.stringify(value)}` };
      }
      status = code;
    } else {
      headers.push([name, value]);
    }
  }
  return { kind: 'head', head: { status, headers, rest: output.subarray(end.index + end.length) } };
}

/** Where the blank line is: CGI allows both CRLF and bare LF line ends. */
function headEnd(output: Buffer): { index: number; length: number } | undefined {
  const crlf = output.indexOf('\r\n\r\n');
  const lf = output.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}
