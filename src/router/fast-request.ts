/**
 * The router's fast path reads request heads itself, but only the plainest ones: a
 * body-less HTTP/1.1 request in origin form whose every byte is unambiguous. Anything else
 * (a body, an upgrade, HTTP/1.0, an absolute URL, an odd byte, a head too large) is not
 * judged here at all: the connection goes to Node's own HTTP server, which validates it in
 * full and answers 400 or 431 where it must. So this parser can only ever say "plain" or
 * "not mine", never accept what Node would refuse.
 */

/** Node's default limit on a request head (--max-http-header-size). */
export const MAX_FAST_HEAD_BYTES = 16 * 1024;
/** Node refuses more than 2000 headers; the fast path stops much earlier. */
const MAX_FAST_HEADERS = 100;

/** Methods that carry no body by their semantics; others go to the full server. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export interface FastRequestHead {
  method: string;
  /** Origin-form request target: path and query. */
  url: string;
  /** As Node gives them: `[name, value, name, value...]`, original case, values trimmed. */
  rawHeaders: string[];
  /** The client asked to close the connection after this response. */
  close: boolean;
}

/**
 * Parses the head in `head` (the bytes before the blank line, latin1-decoded). Answers
 * undefined for anything that is not plain: the caller then hands the connection over.
 */
export function parseFastRequest(head: string): FastRequestHead | undefined {
  if (head.length > MAX_FAST_HEAD_BYTES) return undefined;
  const lines = head.split('\r\n');
  const start = requestLine(lines[0] ?? '');
  if (start === undefined || lines.length - 1 > MAX_FAST_HEADERS) return undefined;
  const rawHeaders: string[] = [];
  let hosts = 0;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!isToken(name)) return undefined;
    const value = line.slice(colon + 1).replace(OWS_EDGES, '');
    if (!isFieldValue(value)) return undefined;
    switch (name.toLowerCase()) {
      case 'host':
        hosts++;
        break;
      case 'content-length':
        if (value !== '0') return undefined;
        break;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
      case 'http2-settings':
        return undefined;
      case 'connection': {
        const tokens = value
          .toLowerCase()
          .split(',')
          .map((token) => token.trim());
        if (tokens.includes('upgrade')) return undefined;
        if (tokens.includes('close')) close = true;
        break;
      }
    }
    rawHeaders.push(name, value);
  }
  if (hosts !== 1) return undefined;
  return { method: start.method, url: start.url, rawHeaders, close };
}

const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

function requestLine(line: string): { method: string; url: string } | undefined {
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  if (first <= 0 || last === first || line.slice(last + 1) !== 'HTTP/1.1') return undefined;
  const method = line.slice(0, first);
  const url = line.slice(first + 1, last);
  if (!BODYLESS_METHODS.has(method) || !url.startsWith('/')) return undefined;
  for (let i = 0; i < url.length; i++) {
    const code = url.charCodeAt(i);
    // Visible ASCII only: no spaces, controls or raw non-ASCII in the target.
    if (code < 0x21 || code > 0x7e) return undefined;
  }
  return { method, url };
}

/** RFC 9110 token: the characters a header name may have. */
function isToken(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (!TOKEN[text.charCodeAt(i)]) return false;
  }
  return text.length > 0;
}

/** Visible ASCII, space, tab and obs-text; never CR, LF, NUL or another control. */
function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x09) continue;
    if (code < 0x20 || code === 0x7f || code > 0xff) return false;
  }
  return true;
}

const TOKEN: boolean[] = Array.from({ length: 128 }, (_, code) => {
  const char = String.fromCharCode(code);
  return /[A-Za-z0-9]/.test(char) || "!#$%&'*+-.^_`|~".includes(char);
});
