import { DeliveryError } from './delivery.js';
import {
  requireSecret,
  describeSecretRef,
  type SecretRef,
  type SecretResolver,
} from './secret-ref.js';

export const USER_AGENT = 'Phoenix-Notifications/1';
/** How much of a refusal's body is kept: enough for Slack's `invalid_token`, never a page. */
export const RESPONSE_SNIPPET_BYTES = 300;

/**
 * Another attempt may help after a server error, a timeout or a rate limit; not after any
 * other refusal (401, 403, 404, 410: a wrong or deleted hook) nor a redirect, which webhook
 * senders do not follow.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

/** POSTs `body` as JSON; resolves on any 2xx. */
export async function postJson(options: {
  url: string;
  body: string;
  headers?: Record<string, string>;
  signal: AbortSignal;
}): Promise<void> {
  const response = await fetch(options.url, {
    method: 'POST',
    body: options.body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...options.headers,
    },
    redirect: 'manual',
    signal: options.signal,
  });
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const snippet = await readSnippet(response);
  const text = `${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
  throw new DeliveryError(`endpoint answered ${text}${snippet === '' ? '' : `: ${snippet}`}`, {
    retryable: isRetryableStatus(response.status),
  });
}

async function readSnippet(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The reason is the status; a body that cannot be read adds nothing to it.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8', 0, RESPONSE_SNIPPET_BYTES);
  return text.replace(/\s+/g, ' ').trim();
}

/** A configured URL, or the one a secret holds (checked here, as the schema never saw it). */
export function resolveUrl(resolve: SecretResolver, url: string | SecretRef): string {
  if (typeof url === 'string') return url;
  const value = requireSecret(resolve, url);
  if (!/^https?:\/\//i.test(value) || !URL.canParse(value)) {
    throw new DeliveryError(`${describeSecretRef(url)} does not hold an http(s) URL`, {
      retryable: false,
    });
  }
  return value;
}

/** What to mask of a URL: all of it, and its path and query, where hooks carry tokens. */
export function urlSecrets(url: string): string[] {
  if (!URL.canParse(url)) return [url];
  const { pathname, search, password } = new URL(url);
  return [url, pathname === '/' ? '' : pathname, search, password].filter((part) => part !== '');
}
