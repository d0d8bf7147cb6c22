import { parsePhoenixConfig, type PhoenixConfig } from '../config/phoenix-config.js';
import { readFileAt } from '../source/hosted-repository.js';
import { ValidationError } from '../shared/errors.js';
import type { ConfigSource } from './orchestrator.js';

export const CONFIG_FILE = 'phoenix.yml';

/**
 * Reads a service's phoenix.yml as committed, from the git repository Phoenix builds it from
 * (its hosted bare repository or its mirror). A missing or invalid file is a ValidationError
 * naming file, line and key; the pipeline records it as a failed run.
 */
export class RepositoryConfigSource implements ConfigSource {
  constructor(private readonly repositoryOf: (service: string) => string) {}

  async load(service: string, commit: string): Promise<PhoenixConfig> {
    const text = await readFileAt(this.repositoryOf(service), commit, CONFIG_FILE);
    if (text === undefined) {
      throw new ValidationError([
        {
          location: { file: CONFIG_FILE, line: 1, column: 1 },
          key: '',
          message: `no ${CONFIG_FILE} at commit ${commit.slice(0, 12)}: add one (phoenix init writes a starter)`,
        },
      ]);
    }
    const config = parsePhoenixConfig(text, CONFIG_FILE);
    if (config.service !== service) {
      throw new ValidationError([
        {
          location: config.source.locate(['service']),
          key: 'service',
          message: `this repository belongs to service "${service}", but ${CONFIG_FILE} names "${config.service}"`,
        },
      ]);
    }
    return config;
  }
}
