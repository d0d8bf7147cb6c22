import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sample service: examples/shop, next to dist/ and src/ alike. */
const SHOP = fileURLToPath(new URL('../../examples/shop', import.meta.url));

/** The demo's listener ports: dev, staging and prod, production and test each. */
export interface DemoPorts {
  dev: number;
  devTest: number;
  staging: number;
  stagingTest: number;
  prod: number;
  prodTest: number;
}

export function demoPorts(base: number): DemoPorts {
  return {
    dev: base,
    devTest: base + 1,
    staging: base + 10,
    stagingTest: base + 11,
    prod: base + 20,
    prodTest: base + 21,
  };
}

/** The example shop's committed files (sources, tests, scripts, buildspec), by path. */
export function shopFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (directory: string): void => {
    for (const name of readdirSync(directory)) {
      if (['node_modules', 'dist', 'reports'].includes(name)) continue;
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(SHOP, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(SHOP);
  return files;
}

/**
 * The shop as pushed by the demo: its sources, tests and buildspec, and a phoenix.yml with
 * three environments — dev all at once, staging as a canary judged on live traffic, prod
 * blue/green behind an approval — short enough to watch.
 */
export function demoFiles(ports: DemoPorts): Record<string, string> {
  const files = shopFiles();
  files['phoenix.yml'] = [
    'service: shop',
    'release:',
    '  start: node src/server.js',
    '  instances: 2',
    '  health-check: { path: /health, interval: 500ms, timeout: 400ms, healthy-threshold: 1 }',
    'environments:',
    '  - name: dev',
    `    listeners: { production: ${ports.dev}, test: ${ports.devTest} }`,
    '  - name: staging',
    `    listeners: { production: ${ports.staging}, test: ${ports.stagingTest} }`,
    '    strategy: { type: canary, percent: 20, interval: 20s, bake: 2s }',
    '  - name: prod',
    `    listeners: { production: ${ports.prod}, test: ${ports.prodTest} }`,
    '    strategy: { type: blue-green, bake: 30s, test-traffic: true }',
    '    protected: true',
    '    approval:',
    '      approvers: [role:approver, role:admin]',
    '      message: Check staging first.',
    '',
  ].join('\n');
  return files;
}

/** Requests to /products each instance of the broken release answers before it fails. */
export const LEAKED_POOL_SIZE = 10;

/**
 * The shop broken the way releases break in production: each /products request takes a
 * database connection and never gives it back, so after a few requests every /products
 * answers 500, while /health stays green. Its unit tests and the smoke test pass (each makes
 * one or two requests): only real traffic finds it.
 */
export function brokenServer(files: Record<string, string>): Record<string, string> {
  const server = files['src/server.js'] ?? '';
  const broken = server
    .replace(
      'function send(res, status, body) {',
      `const POOL_SIZE = ${LEAKED_POOL_SIZE};\nlet connectionsInUse = 0;\n\nfunction send(res, status, body) {`,
    )
    .replace(
      "  if (req.method === 'GET' && url.pathname === '/products') return send(res, 200, PRODUCTS);",
      [
        "  if (req.method === 'GET' && url.pathname === '/products') {",
        '    if (connectionsInUse === POOL_SIZE) return send(res, 500, { error: "no database connection left" });',
        '    connectionsInUse += 1; // taken from the pool, never given back',
        '    return send(res, 200, PRODUCTS);',
        '  }',
      ].join('\n'),
    );
  if (!broken.includes('connectionsInUse += 1') || !broken.includes('const POOL_SIZE'))
    throw new Error('examples/shop/src/server.js changed: the demo cannot break it');
  return { 'src/server.js': broken };
}
