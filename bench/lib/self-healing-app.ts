import { APP_ENVIRONMENT, APP_SERVICE } from './deploy-app.js';

/**
 * The service the self-healing bench deploys: a dependency-free Node HTTP server whose
 * behaviour.json says how this release misbehaves. `good` answers every path with its
 * version; `fail` answers /health but 500 to everything else; `slow` answers after a delay;
 * `crash` exits as soon as it starts. A misbehaving release writes JSON lines to its log (the
 * runtime's instance log) with the times of its first and last answers, so the bench sees
 * the bad answers that the router retried and the clients never got.
 */
export type AppMode = 'good' | 'fail' | 'slow' | 'crash';

export interface AppBehaviour {
  /** What every path but /health answers (the body), and the release's name in the tables. */
  version: string;
  mode: AppMode;
  /** `slow`: added to every answer but /health's. */
  delayMs?: number;
}

/** A log line of a misbehaving instance: `{"benchAnswers":{count,first,last}}` or `{"benchCrash":at}`. */
export const ANSWERS_KEY = 'benchAnswers';
export const CRASH_KEY = 'benchCrash';

const SERVER_MJS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const { version, mode, delayMs = 0 } = JSON.parse(readFileSync(new URL('./behaviour.json', import.meta.url), 'utf8'));
const now = () => performance.timeOrigin + performance.now();
if (mode === 'crash') {
  console.log(JSON.stringify({ ${CRASH_KEY}: now() }));
  process.exit(1);
}
const health = JSON.stringify({ version, release: process.env.PHOENIX_RELEASE });
const answers = { count: 0, first: undefined, last: undefined };
const report = () => console.log(JSON.stringify({ ${ANSWERS_KEY}: answers }));
function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
function answer(response, status) {
  send(response, status, version);
  if (mode === 'good') return;
  const at = now();
  answers.count++;
  answers.last = at;
  if (answers.first === undefined) {
    answers.first = at;
    report();
  }
}
const server = createServer((request, response) => {
  if (request.url === '/health') return send(response, 200, health);
  if (mode === 'fail') return answer(response, 500);
  if (mode === 'slow') return setTimeout(() => answer(response, 200), delayMs);
  answer(response, 200);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  report();
  server.close(() => process.exit(0));
});
process.on('exit', () => {
  if (mode !== 'good') report();
});
`;

const BUILDSPEC = `version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist && cp server.mjs behaviour.json dist/
artifacts:
  base-directory: dist
  files:
    - '**/*'
`;

/**
 * As the zero-downtime bench's app: a new instance joins after one passing check, a failing
 * one leaves after two; the timeout leaves room for a machine saturated by the load.
 */
const HEALTH_CHECK =
  '{ interval: 500ms, timeout: 400ms, healthy-threshold: 2, unhealthy-threshold: 2 }';

export interface AppRelease {
  behaviour: AppBehaviour;
  /** phoenix.yml's `strategy`, as a YAML flow mapping or a name. */
  strategy: string;
  retryCanaryErrors?: boolean;
  /** phoenix.yml's `alarms`, each a YAML flow mapping; Phoenix's defaults when absent. */
  alarms?: readonly string[];
}

export interface AppEnvironment {
  productionPort: number;
  testPort: number;
  instances: number;
}

/**
 * The repository's files for one release. The environment deploys only `main`'s runs, so
 * the bench pushes misbehaving releases to another branch: their runs build and record the
 * release, and the bench deploys it through the API, under load, as many times as it needs.
 */
export function appFiles(release: AppRelease, environment: AppEnvironment): Record<string, string> {
  return {
    'server.mjs': SERVER_MJS,
    'buildspec.yml': BUILDSPEC,
    'behaviour.json': `${JSON.stringify(release.behaviour)}\n`,
    'phoenix.yml': phoenixYml(release, environment),
  };
}

function phoenixYml(release: AppRelease, environment: AppEnvironment): string {
  const lines = [
    `service: ${APP_SERVICE}`,
    'build: { retries: 0 }',
    'release:',
    '  start: node server.mjs',
    `  health-check: ${HEALTH_CHECK}`,
    'environments:',
    `  - name: ${APP_ENVIRONMENT}`,
    '    branches: [main]',
    `    instances: ${environment.instances}`,
    `    listeners: { production: ${environment.productionPort}, test: ${environment.testPort} }`,
    `    strategy: ${release.strategy}`,
  ];
  if (release.retryCanaryErrors === true) lines.push('    retry-canary-errors: true');
  if (release.alarms !== undefined && release.alarms.length > 0) {
    lines.push('    alarms:', ...release.alarms.map((alarm) => `      - ${alarm}`));
  }
  return `${lines.join('\n')}\n`;
}
