import type { Command } from 'commander';
import { isFinished } from '../deploy/deployment.js';
import type { DeploymentView } from '../deploy/deployment-view.js';
import type { ApiClient } from './api-client.js';
import {
  printJson,
  runApiCommand,
  withConnectionOptions,
  type ConnectionOptions,
} from './api-command.js';
import {
  formatDeploymentEnd,
  formatDeploymentStarted,
  formatEnvironmentStatus,
  formatTimelineLine,
} from './deployment-output.js';

/** How often `phoenix deploy --follow` asks how the deployment goes. */
export const DEPLOY_FOLLOW_POLL_MS = 500;

interface DeployOptions extends ConnectionOptions {
  env: string;
  release?: string;
  follow?: boolean;
}

interface StatusOptions extends ConnectionOptions {
  env?: string;
}

/** `phoenix deploy`, `phoenix status`. */
export function registerDeployCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('deploy')
      .description("deploy a release to an environment, as the environment's phoenix.yml says")
      .argument('<service>', 'service name')
      .requiredOption('--env <environment>', 'the environment, e.g. dev')
      .option('--release <release>', 'release id (rel_...) or SERVICE#NUMBER (default: the latest)')
      .option('-f, --follow', 'print the timeline as it happens; exit 0 only if it succeeded'),
  ).action((service: string, options: DeployOptions) =>
    runApiCommand(options, (client) => deploy(client, service, options)),
  );

  withConnectionOptions(
    program
      .command('status')
      .description("what serves in each of a service's environments, and its latest deployment")
      .argument('<service>', 'service name')
      .option('--env <environment>', 'only this environment'),
  ).action((service: string, options: StatusOptions) =>
    runApiCommand(options, async (client) => {
      const status = await client.serviceStatus(service, { environment: options.env });
      if (options.json) return printJson(status);
      if (status.environments.length === 0) {
        const where = options.env === undefined ? '' : ` to ${options.env}`;
        process.stdout.write(
          `No deployments of ${service}${where} yet: a run deploys to its first environment, or use phoenix deploy ${service} --env ENV\n`,
        );
        return undefined;
      }
      const now = Date.now();
      const blocks = status.environments.map((view) =>
        formatEnvironmentStatus(view, service, { now }),
      );
      process.stdout.write(`${blocks.join('\n\n')}\n`);
      return undefined;
    }),
  );
}

async function deploy(
  client: ApiClient,
  service: string,
  options: DeployOptions,
): Promise<number | undefined> {
  const { deployment } = await client.deploy(service, {
    environment: options.env,
    ...(options.release === undefined ? {} : { release: options.release }),
  });
  if (!options.follow) {
    if (options.json) return printJson({ deployment });
    process.stdout.write(`${formatDeploymentStarted(deployment)}\n`);
    process.stdout.write(`Follow it: phoenix status ${service} --env ${options.env}\n`);
    return undefined;
  }
  if (!options.json) process.stdout.write(`${formatDeploymentStarted(deployment)}\n`);
  const finished = await follow(client, deployment, !options.json);
  if (options.json) printJson({ deployment: finished });
  else process.stdout.write(`${formatDeploymentEnd(finished)}\n`);
  return finished.status === 'succeeded' ? 0 : 1;
}

/** Polls the deployment until it has finished, printing each new timeline event once. */
async function follow(
  client: ApiClient,
  started: DeploymentView,
  print: boolean,
): Promise<DeploymentView> {
  let shown = 0;
  let deployment = started;
  for (;;) {
    for (const event of deployment.timeline) {
      if (event.id <= shown) continue;
      shown = event.id;
      if (print) process.stdout.write(`${formatTimelineLine(event)}\n`);
    }
    if (isFinished(deployment.status)) return deployment;
    await new Promise((resolve) => setTimeout(resolve, DEPLOY_FOLLOW_POLL_MS));
    deployment = (await client.getDeployment(deployment.id)).deployment;
  }
}
