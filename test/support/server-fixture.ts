import type { FastifyInstance } from 'fastify';
import { createHttpServer, type ServerDeps } from '../../src/server/http-server.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { TokenRole } from '../../src/store/token-repository.js';
import { PipelineFixture } from './pipeline-fixture.js';

/**
 * The control plane's HTTP server over a PipelineFixture's real store, orchestrator and
 * hosted repositories. `close()` closes the server the fixture made last, then the pipeline.
 */
export class ServerFixture extends PipelineFixture {
  private server: FastifyInstance | undefined;

  /** A new server (not yet ready); test-friendly defaults, then `overrides`. */
  start(overrides: Partial<ServerDeps> = {}): FastifyInstance {
    this.server = createHttpServer({
      store: this.store,
      orchestrator: this.orchestrator,
      bus: this.bus,
      repositoriesRoot: this.repositories,
      sources: { watch: () => undefined, unwatch: () => undefined },
      publicUrl: () => 'http://127.0.0.1',
      logger: silentLogger(),
      now: Date.now,
      version: 'test',
      processMetrics: false,
      ...overrides,
    });
    return this.server;
  }

  /** A new server listening on 127.0.0.1 at a free port; its public URL is the one it listens at. */
  async listen(
    overrides: Partial<ServerDeps> = {},
  ): Promise<{ app: FastifyInstance; base: string }> {
    let base = '';
    const app = this.start({ publicUrl: () => base, ...overrides });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
    return { app, base };
  }

  /** A new API token's plaintext. */
  token(role: TokenRole, name: string = role): string {
    return this.store.tokens.create({ name, role }).token;
  }

  override async close(): Promise<void> {
    await this.server?.close();
    await super.close();
  }
}
