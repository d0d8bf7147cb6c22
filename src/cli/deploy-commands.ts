import type { Command } from 'commander';
import { isFinished } from '../deploy/deployment.js';
import type { DeploymentView } from '../deploy/deployment-view.js';
import { FIRST_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS, MAX_RECONNECTS } from './follow-run.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentEvent } from '../deploy/deployment.js';
import { ServerUnreachableError, type ApiClient } from './api-client.js';
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
  formatUndeployedEnvironment,
  formatTimelineLine,
} from './deployment-output.js';

interface DeployOptions extends ConnectionOptions {
  env: string;
  release?: string;
  follow?: boolean;
}

interface StatusOptions extends ConnectionOptions {
  env?: string;
}

interface EnvironmentOptions extends ConnectionOptions {
  env: string;
}

interface RollbackOptions extends EnvironmentOptions {
  to?: string;
  follow?: boolean;
}

/** The commands that act on an environment's deployment in flight. */
const IN_FLIGHT_COMMANDS: readonly {
  name: string;
  description: string;
  call(client: ApiClient, id: string): Promise<{ deployment: DeploymentView }>;
  done(deployment: DeploymentView): string;
}[] = [
  {
    name: 'promote',
    description:
      "let the environment's held deployment go on (promote: manual), or end its current bake now",
    call: (client, id) => client.promote(id),
    done: (d) => `Promoted ${d.id}: it goes on (${d.status})`,
  },
  {
    name: 'pause',
    description:
      "hold the environment's deployment at its current step (a bake goes on being judged)",
    call: (client, id) => client.pause(id),
    done: (d) => `Paused ${d.id} (${d.status})`,
  },
  {
    name: 'resume',
    description: "let the environment's paused deployment take its next step",
    call: (client, id) => client.resume(id),
    done: (d) => `Resumed ${d.id} (${d.status})`,
  },
  {
    name: 'abort',
    description:
      "stop the environment's deployment now: production goes back to what served before",
    call: (client, id) => client.abort(id),
    done: (d) =>
      `Aborting ${d.id}: production goes back to ${d.previousReleaseId ?? 'nothing (a first deployment)'}`,
  },
];

/** `phoenix deploy`, `status`, `promote`, `pause`, `resume`, `abort`, `rollback`. */
export function registerDeployCommands(program: Command): void {
  for (const command of IN_FLIGHT_COMMANDS) {
    withConnectionOptions(
      program
        .command(command.name)
        .description(command.description)
        .argument('<service>', 'service name')
        .requiredOption('--env <environment>', 'the environment, e.g. staging'),
    ).action((service: string, options: EnvironmentOptions) =>
      runApiCommand(options, async (client) => {
        const id = await deploymentInFlight(client, service, options.env);
        if (id === undefined) return 1;
        const { deployment } = await command.call(client, id);
        if (options.json) return printJson({ deployment });
        process.stdout.write(`${command.done(deployment)}\n`);
        return undefined;
      }),
    );
  }

  withConnectionOptions(
    program
      .command('rollback')
      .description(
        'production back to an earlier release now, skipping analysis (aborts a deployment in flight)',
      )
      .argument('<service>', 'service name')
      .requiredOption('--env <environment>', 'the environment, e.g. prod')
      .option('--to <release>', 'release id (rel_...) or SERVICE#NUMBER (default: the one before)')
      .option('-f, --follow', 'print the timeline as it happens; exit 0 only if it succeeded'),
  ).action((service: string, options: RollbackOptions) =>
    runApiCommand(options, async (client) => {
      const { action, deployment } = await client.rollback(service, {
        environment: options.env,
        ...(options.to === undefined ? {} : { release: options.to }),
      });
      if (!options.follow && options.json) return printJson({ action, deployment });
      if (!options.json) {
        process.stdout.write(
          action === 'aborted'
            ? `Aborting ${deployment.id}: production goes back to ${deployment.previousReleaseId ?? 'what served'}\n`
            : `Rolling back: ${formatDeploymentStarted(deployment)}\n`,
        );
      }
      if (!options.follow) return undefined;
      const finished = await follow(client, deployment, !options.json);
      if (options.json) printJson({ action, deployment: finished });
      else process.stdout.write(`${formatDeploymentEnd(finished)}\n`);
      const wanted = action === 'aborted' ? 'aborted' : 'succeeded';
      return finished.status === wanted ? 0 : 1;
    }),
  );

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
      const { undeployed } = status;
      if (status.environments.length === 0 && undeployed.length === 0) {
        const where = options.env === undefined ? '' : ` to ${options.env}`;
        process.stdout.write(
          `No deployments of ${service}${where} yet: a run deploys to its first environment, or use phoenix deploy ${service} --env ENV\n`,
        );
        return undefined;
      }
      const now = Date.now();
      const blocks = [
        ...status.environments.map((view) => formatEnvironmentStatus(view, service, { now })),
        ...undeployed.map((view) => formatUndeployedEnvironment(view, service, { now })),
      ];
      process.stdout.write(`${blocks.join('\n\n')}\n`);
      return undefined;
    }),
  );

  const deployment = program.command('deployment').description('look at one deployment');
  withConnectionOptions(
    deployment
      .command('log')
      .description("what the deployment's appspec hooks wrote (a smoke test's output, say)")
      .argument('<deployment>', 'deployment id (dep_...), as phoenix status shows it'),
  ).action((id: string, options: ConnectionOptions) =>
    runApiCommand(options, async (client) => {
      process.stdout.write(await client.deploymentLog(id));
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

/** The id of the environment's deployment in flight; undefined (said on stderr) when none. */
async function deploymentInFlight(
  client: ApiClient,
  service: string,
  environment: string,
): Promise<string | undefined> {
  const status = await client.serviceStatus(service, { environment });
  const latest = status.environments[0]?.latest;
  if (latest !== undefined && !isFinished(latest.status)) return latest.id;
  const which = latest === undefined ? '' : ` (the latest, ${latest.id}, is ${latest.status})`;
  process.stderr.write(`phoenix: ${service} ${environment} has no deployment in flight${which}\n`);
  return undefined;
}

/**
 * Follows the deployment's event stream until it has finished, printing each timeline event
 * once. A stream lost midway (a server restart) is reopened from the last event id.
 */
async function follow(
  client: ApiClient,
  started: DeploymentView,
  print: boolean,
): Promise<DeploymentView> {
  let shown = 0;
  let lastEventId: string | undefined;
  let delay = FIRST_RECONNECT_DELAY_MS;
  for (let failures = 0; ; failures++) {
    let lost: ServerUnreachableError | undefined;
    try {
      for await (const event of client.deploymentEvents(started.id, { lastEventId })) {
        if (event.id !== undefined) {
          // Progress, not just the snapshot every connection opens with.
          failures = 0;
          delay = FIRST_RECONNECT_DELAY_MS;
          lastEventId = event.id;
          const recorded = event.data as DeploymentEvent;
          if (recorded.id > shown) {
            shown = recorded.id;
            if (print) process.stdout.write(`${formatTimelineLine(recorded)}\n`);
          }
        }
        if (event.event === 'end') return (await client.getDeployment(started.id)).deployment;
      }
    } catch (error) {
      if (!(error instanceof ServerUnreachableError)) throw error;
      lost = error;
    }
    if (failures >= MAX_RECONNECTS) {
      throw lost ?? new ServerUnreachableError(client.url, 'the event stream kept ending');
    }
    if (print) process.stderr.write('connection to the server lost; reconnecting...\n');
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
  }
}
