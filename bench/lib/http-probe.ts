import { get } from 'node:http';

const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/**
 * One GET on a connection of its own (closed afterwards, so no kept-alive socket of the
 * bench's lingers on an instance or a listener); `undefined` when nothing answered.
 */
export function probe(
  url: string,
  timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', () => resolve(undefined));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}
