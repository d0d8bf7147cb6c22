import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess } from './managed-process.js';
import { portAccepts } from './ports.js';

const execFileAsync = promisify(execFile);

/** Idle keep-alive connections each nginx worker keeps to the upstreams. */
const UPSTREAM_KEEPALIVE = 64;

export const NGINX_INSTALL_HINT =
  'install it with `apt-get install -y nginx-light` (or `nginx`) to add the nginx columns';

/** The path of `nginx` on PATH or in /usr/sbin (not on a normal user's PATH), or undefined. */
export async function findNginx(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(
      'sh',
      ['-c', 'command -v nginx || command -v /usr/sbin/nginx'],
      {
        env: { PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` },
      },
    );
    const path = stdout.trim();
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}

export async function nginxVersion(binary: string): Promise<string> {
  // nginx -v prints to stderr: "nginx version: nginx/1.22.1".
  const { stderr } = await execFileAsync(binary, ['-v']);
  return stderr.trim().replace(/^nginx version: /, '');
}

export interface NginxOptions {
  binary: string;
  /** Holds nginx.conf, its pid file, error log and temp folders. */
  directory: string;
  port: number;
  workerProcesses: number;
  /** The same upstreams and weights as the router's listener. */
  upstreams: readonly { port: number; weight: number }[];
  signal: AbortSignal;
  processes: Set<ManagedProcess>;
}

/**
 * nginx in the foreground (`daemon off`), so the spawned pid is its master: SIGTERM stops
 * the master and its workers. Proxies as the router does: HTTP/1.1 keep-alive to clients and
 * to upstreams, X-Forwarded-* and a request id added, no access log.
 */
export async function startNginx(options: NginxOptions): Promise<ManagedProcess> {
  await mkdir(options.directory, { recursive: true });
  const config = join(options.directory, 'nginx.conf');
  await writeFile(config, nginxConfig(options));
  return ManagedProcess.start({
    label: `nginx (${options.workerProcesses} workers)`,
    command: options.binary,
    args: ['-p', options.directory, '-c', config, '-e', join(options.directory, 'error.log')],
    // nginx prints nothing when it starts: it is ready when its port accepts connections.
    ready: { probe: () => portAccepts(options.port) },
    signal: options.signal,
    processes: options.processes,
  });
}

export function nginxConfig(options: NginxOptions): string {
  const { directory } = options;
  const servers = options.upstreams
    .map(({ port, weight }) => `    server 127.0.0.1:${port} weight=${weight};`)
    .join('\n');
  return `worker_processes ${options.workerProcesses};
daemon off;
pid ${join(directory, 'nginx.pid')};
error_log ${join(directory, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(directory, 'client_body')};
  proxy_temp_path ${join(directory, 'proxy')};
  fastcgi_temp_path ${join(directory, 'fastcgi')};
  uwsgi_temp_path ${join(directory, 'uwsgi')};
  scgi_temp_path ${join(directory, 'scgi')};
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  upstream app {
${servers}
    keepalive ${UPSTREAM_KEEPALIVE};
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${options.port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Request-Id $request_id;
    }
  }
}
`;
}
