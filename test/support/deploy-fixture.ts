import { join } from 'node:path';
import { ApprovalGates } from '../../src/approval/approval-gates.js';
import { createDeployments, type Deployments } from '../../src/main.js';
import { ApprovalStageRunner } from '../../src/pipeline/approval-stage.js';
import { RepositoryConfigSource } from '../../src/pipeline/repository-config.js';
import type { StageRunners } from '../../src/pipeline/stage-runner.js';
import { adminTokenPath, ensureAdminToken, routerDirectory } from '../../src/router/admin-token.js';
import { startRouter, type RunningRouter } from '../../src/router/router.js';
import { stopRecordedInstances } from '../../src/runtime/local/local-runtime.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { repositoryPath } from '../../src/source/hosted-repository.js';
import { resolveRef } from '../../src/server/service-source.js';
import { PipelineFixture } from './pipeline-fixture.js';

export { shopFiles } from '../../src/demo/demo-service.js';

/**
 * A PipelineFixture whose runs also deploy, wired as `phoenix server` wires it
 * (createDeployments): the real local runtime under the fixture's PHOENIX_HOME, and the real
 * router started in-process (admin API on a free loopback port, the admin token from
 * PHOENIX_HOME/router/admin-token). `close` stops every instance the runtime recorded, then
 * the router, then the pipeline.
 */
export class DeployFixture {
  private routerRunning = true;

  /** Approval gates over the pipeline's store, as the server wires them. */
  readonly approvals: ApprovalGates;

  private constructor(
    readonly pipeline: PipelineFixture,
    readonly router: RunningRouter,
    public deployments: Deployments,
  ) {
    this.approvals = new ApprovalGates({
      approvals: pipeline.store.approvals,
      clock: systemClock(),
    });
  }

  private runners(): StageRunners {
    return {
      deploy: this.deployments.stageRunner,
      approval: new ApprovalStageRunner({
        approvals: this.pipeline.store.approvals,
        gates: this.approvals,
      }),
    };
  }

  static async start(): Promise<DeployFixture> {
    const pipeline = new PipelineFixture();
    const router = await startRouter({
      stateDirectory: routerDirectory(pipeline.home),
      adminPort: 0,
      adminToken: await ensureAdminToken(adminTokenPath(pipeline.home)),
      logger: silentLogger(),
      processMetrics: false,
    });
    const fixture = new DeployFixture(pipeline, router, await wire(pipeline, router.adminUrl));
    pipeline.orchestrator = pipeline.createOrchestrator(fixture.runners());
    return fixture;
  }

  /**
   * The control plane stops (runs and deployments stay as recorded, instances keep running)
   * and starts again on the same PHOENIX_HOME, recovering in the server's order.
   */
  async restart(): Promise<void> {
    await this.stopControlPlane();
    this.deployments = await wire(this.pipeline, this.router.adminUrl);
    this.pipeline.orchestrator = this.pipeline.createOrchestrator(this.runners());
    await this.deployments.runtime.adopt();
    await this.deployments.controller.recover();
    await this.pipeline.orchestrator.recover();
  }

  /** As if `phoenix router` stopped: its listeners close. */
  async stopRouter(): Promise<void> {
    if (!this.routerRunning) return;
    this.routerRunning = false;
    await this.router.close({ graceMs: 0 });
  }

  async close(): Promise<void> {
    await this.stopControlPlane();
    await stopInstances(join(this.pipeline.home, 'runtime'));
    await this.stopRouter();
    await this.pipeline.close();
  }

  private async stopControlPlane(): Promise<void> {
    await this.pipeline.orchestrator.stop();
    await this.deployments.controller.stop();
    await this.deployments.runtime.close();
  }
}

function wire(pipeline: PipelineFixture, routerUrl: string): Promise<Deployments> {
  return createDeployments({
    phoenix: { home: pipeline.home, logger: silentLogger(), routerUrl, runtime: 'local' },
    store: pipeline.store,
    clock: systemClock(),
    configs: new RepositoryConfigSource((service) =>
      repositoryPath(pipeline.repositories, service),
    ),
    headOf: (service) =>
      resolveRef(
        repositoryPath(pipeline.repositories, service),
        `refs/heads/${pipeline.store.services.get(service).defaultBranch}`,
      ),
  });
}

/** Stops every instance recorded in a runtime state folder, as a runtime that adopts them all. */
export function stopInstances(stateDirectory: string): Promise<void> {
  return stopRecordedInstances(stateDirectory, { logger: silentLogger(), graceMs: 2_000 });
}
