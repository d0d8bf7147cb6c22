import { z } from 'zod';
import { inputError } from '../source/input-error.js';
import type { Service } from '../store/service-repository.js';

/** The repository a forge delivery is about, as its payload names it. */
export interface PayloadRepository {
  /** `owner/name`. */
  fullName?: string;
  urls: string[];
}

const repositorySchema = z.object({
  repository: z
    .object({
      full_name: z.string().optional(),
      clone_url: z.string().optional(),
      ssh_url: z.string().optional(),
      html_url: z.string().optional(),
      git_url: z.string().optional(),
    })
    .optional(),
});

/**
 * Reads only which repository a delivery is about, before its signature can be checked
 * (the secret belongs to the service, found by this). JSON or GitHub's form encoding.
 */
export function payloadRepository(body: Buffer): PayloadRepository | undefined {
  let text = body.toString('utf8');
  if (text.startsWith('payload=')) text = new URLSearchParams(text).get('payload') ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw inputError('webhook payload', '', 'is not valid JSON', { cause: error });
  }
  const parsed = repositorySchema.safeParse(json);
  const repository = parsed.success ? parsed.data.repository : undefined;
  if (repository === undefined) return undefined;
  const urls = [repository.clone_url, repository.ssh_url, repository.html_url, repository.git_url];
  return {
    ...(repository.full_name === undefined ? {} : { fullName: repository.full_name }),
    urls: urls.filter((url): url is string => url !== undefined && url !== ''),
  };
}

/**
 * `host/owner/name` in lower case for the ways one repository is written: https with or
 * without credentials and `.git`, ssh://, git://, scp-like `git@host:owner/name.git`.
 * Undefined for local paths and anything unreadable.
 */
export function repositoryKey(url: string): string | undefined {
  const scp = /^[^/@\s]+@([^/:\s]+):(?!\/)(.+)$/.exec(url);
  let host: string;
  let path: string;
  if (scp?.[1] !== undefined && scp[2] !== undefined) {
    host = scp[1];
    path = scp[2];
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (!['https:', 'http:', 'ssh:', 'git:'].includes(parsed.protocol) || parsed.hostname === '')
      return undefined;
    host = parsed.hostname;
    path = parsed.pathname;
  }
  const trimmed = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  if (trimmed === '') return undefined;
  return `${host}/${trimmed}`.toLowerCase();
}

/**
 * Services built from the delivery's repository: an external service whose URL is one of the
 * payload's URLs, or ends in its `owner/name` (a forge host the payload spells differently).
 * Several services may share one repository (a monorepo); each checks its own signature.
 */
export function servicesFor(
  services: readonly Service[],
  repository: PayloadRepository,
): Service[] {
  const keys = new Set(repository.urls.map(repositoryKey).filter((key) => key !== undefined));
  const suffix =
    repository.fullName === undefined ? undefined : `/${repository.fullName.toLowerCase()}`;
  return services.filter((service) => {
    if (service.repository.kind !== 'external') return false;
    const key = repositoryKey(service.repository.url);
    if (key === undefined) return false;
    return keys.has(key) || (suffix !== undefined && key.endsWith(suffix));
  });
}
