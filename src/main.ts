import { LocalExecutor } from './build/local-executor.js';
import type { Executor } from './build/executor.js';
import { unconfiguredSecrets, type SecretResolver } from './build/secrets.js';
import { phoenixHome } from './shared/home.js';
import { createLogger, type Logger } from './shared/logger.js';

/**
 * The composition root: the only place that picks implementations. Domain code receives
 * what it needs through constructors; swapping the local executor for Kubernetes Jobs or
 * CodeBuild later is a change here, by name, not an if-chain in domain code.
 */
export interface Phoenix {
  home: string;
  logger: Logger;
  executor: Executor;
}

export interface PhoenixOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  secrets?: SecretResolver;
  executor?: keyof typeof EXECUTORS;
}

type ExecutorFactory = (options: {
  home: string;
  logger: Logger;
  secrets: SecretResolver;
  env: NodeJS.ProcessEnv;
}) => Executor;

const EXECUTORS = {
  local: ({ home, logger, secrets, env }) =>
    new LocalExecutor({ home, logger, secrets, hostEnv: env }),
} satisfies Record<string, ExecutorFactory>;

export function createPhoenix(options: PhoenixOptions = {}): Phoenix {
  const env = options.env ?? process.env;
  const home = phoenixHome(env);
  const logger = options.logger ?? createLogger();
  const secrets = options.secrets ?? unconfiguredSecrets;
  const executor = EXECUTORS[options.executor ?? 'local']({ home, logger, secrets, env });
  return { home, logger, executor };
}
