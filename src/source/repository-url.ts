/**
 * Where an external repository lives, as git accepts it — restricted to forms that cannot
 * be read as an option or a transport helper (`ext::`, `fd::`): https, http, ssh, file,
 * scp-like `user@host:path`, or an absolute local path.
 */

// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/;
const SCP_LIKE = /^[A-Za-z0-9._][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:(?!\/\/)[^\s]+$/;

/** Why `url` cannot be polled, or undefined when it can. */
export function validateRepositoryUrl(url: string): string | undefined {
  if (url === '') return 'is empty';
  if (url.startsWith('-')) return 'must not start with "-"';
  if (CONTROL_OR_SPACE.test(url)) return 'must not contain spaces or control characters';
  if (url.startsWith('/')) return url.includes('::') ? 'must not contain "::"' : undefined;
  if (SCP_LIKE.test(url)) return scpPathProblem(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an https://, http://, ssh:// or file:// URL, user@host:path, or an absolute path';
  }
  switch (parsed.protocol) {
    case 'https:':
    case 'http:':
    case 'ssh:':
      if (parsed.hostname === '' || parsed.hostname.startsWith('-')) return 'has no usable host';
      if (decodeURIComponent(parsed.username).startsWith('-'))
        return 'has a user name starting with "-"';
      return undefined;
    case 'file:':
      return parsed.pathname.startsWith('/') ? undefined : 'file:// URL needs an absolute path';
    default:
      return `the ${parsed.protocol.replace(/:$/, '')} scheme is not allowed`;
  }
}

function scpPathProblem(url: string): string | undefined {
  const path = url.slice(url.indexOf(':') + 1);
  return path.startsWith('-') ? 'has a path starting with "-"' : undefined;
}

/** The URL without a password or token, for messages and logs. */
export function redactRepositoryUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}
