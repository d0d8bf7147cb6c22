// Phoenix's router as its own process, as `phoenix router` will run it, for the router bench.
// Prints one JSON line once the data plane and the admin API listen:
//   {"ready":true,"adminUrl":…,"processStartAt":…,"importedAt":…,"readyAt":…}
// (epoch ms). SIGTERM closes it (1 s grace) and exits 0, so `--cpu-prof` writes its profile.
//
//   PHOENIX_ROUTER_STATE=DIR PHOENIX_ROUTER_TOKEN=… node --import tsx bench/lib/router-process.ts

const processStartAt = performance.timeOrigin;
const stateDirectory = process.env['PHOENIX_ROUTER_STATE'];
const adminToken = process.env['PHOENIX_ROUTER_TOKEN'];
if (stateDirectory === undefined || adminToken === undefined) {
  throw new Error('set PHOENIX_ROUTER_STATE and PHOENIX_ROUTER_TOKEN');
}

// Imported here, not at the top, so the line can say how long loading the router took.
const { startRouter } = await import('../../src/router/router.js');
const { createLogger } = await import('../../src/shared/logger.js');
const importedAt = performance.timeOrigin + performance.now();

const router = await startRouter({
  stateDirectory,
  adminPort: 0,
  adminToken,
  logger: createLogger({ level: 'warn' }),
});
const readyAt = performance.timeOrigin + performance.now();
console.log(
  JSON.stringify({ ready: true, adminUrl: router.adminUrl, processStartAt, importedAt, readyAt }),
);

process.once('SIGTERM', () => {
  void router.close({ graceMs: 1000 }).then(() => process.exit(0));
});
