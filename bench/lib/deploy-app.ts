/**
 * The service the zero-downtime bench deploys: a dependency-free Node HTTP server that
 * answers every path with its version and /health with its version and release, and closes
 * gracefully on SIGTERM, as a typical small service does.
 */
export const APP_SERVICE = 'web';
export const APP_ENVIRONMENT = 'prod';

const SERVER_MJS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./version.txt', import.meta.url), 'utf8').trim();
const health = JSON.stringify({ version, release: process.env.PHOENIX_RELEASE });
const server = createServer((request, response) => {
  const body = request.url === '/health' ? health : version;
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  response.end(body);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const BUILDSPEC = `version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist && cp server.mjs version.txt dist/
artifacts:
  base-directory: dist
  files:
    - '**/*'
`;

export interface AppSettings {
  productionPort: number;
  testPort: number;
  instances: number;
  bakeMs: number;
}

/**
 * The health check: a new instance joins the rotation after one passing check, a failing one
 * leaves after two failed checks (at once when live traffic finds its port refused) and
 * comes back after two passing ones. The timeout leaves room for a machine saturated by the
 * load generator.
 */
const HEALTH_CHECK =
  '{ interval: 500ms, timeout: 400ms, healthy-threshold: 2, unhealthy-threshold: 2 }';

/** The repository's files for one version of the app. */
export function appFiles(version: string, settings: AppSettings): Record<string, string> {
  return {
    'server.mjs': SERVER_MJS,
    'buildspec.yml': BUILDSPEC,
    'version.txt': `${version}\n`,
    'phoenix.yml': phoenixYml(settings),
  };
}

function phoenixYml(settings: AppSettings): string {
  return [
    `service: ${APP_SERVICE}`,
    'build: { retries: 0 }',
    'release:',
    '  start: node server.mjs',
    `  health-check: ${HEALTH_CHECK}`,
    'environments:',
    `  - name: ${APP_ENVIRONMENT}`,
    `    instances: ${settings.instances}`,
    `    listeners: { production: ${settings.productionPort}, test: ${settings.testPort} }`,
    `    strategy: { type: blue-green, bake: ${settings.bakeMs}ms }`,
    '',
  ].join('\n');
}
