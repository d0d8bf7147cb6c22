import { z } from 'zod';

/**
 * The shape of a CodeBuild buildspec (version 0.1 and 0.2), as the buildspec reference
 * documents it. Unknown keys are errors (CodeBuild rejects them too), so typos never
 * turn into silently skipped settings.
 */

/** CodeBuild accepts yes/no as well as YAML booleans. */
export const yesNo = z.union([
  z.boolean(),
  z.enum(['yes', 'no', 'Yes', 'No', 'YES', 'NO', 'true', 'false', 'True', 'False'], {
    errorMap: () => ({ message: 'expected yes or no' }),
  }),
]);

/** Variable values are scalars; CodeBuild turns numbers and booleans into strings. */
const scalar = z.union([z.string(), z.number(), z.boolean()], {
  errorMap: () => ({ message: 'expected a string, number or boolean value' }),
});

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names must be shell identifiers');

/** YAML reads `- true` or `- 1` as a boolean or number; as a command it is the same text. */
const command = z.union([z.string(), z.number().transform(String), z.boolean().transform(String)], {
  errorMap: (issue, ctx) =>
    issue.code === 'invalid_union'
      ? {
          message: `a command must be a string, got ${describeValue(ctx.data)} (quote commands that contain ": " or start with a YAML special character)`,
        }
      : { message: ctx.defaultError },
});

function describeValue(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

const commands = z.array(command, {
  errorMap: (issue, ctx) =>
    issue.code === 'invalid_type'
      ? { message: 'expected a list of commands' }
      : { message: ctx.defaultError },
});

const stringList = z.union([z.string().transform((value) => [value]), z.array(z.string())]);

const variables = z.record(variableName, scalar);

export const phaseSchema = z
  .object({
    'run-as': z.string().optional(),
    'on-failure': z.string().optional(),
    'runtime-versions': z.record(z.string(), scalar).optional(),
    commands: commands.nullish(),
    finally: commands.nullish(),
  })
  .strict();

const phasesSchema = z
  .object({
    install: phaseSchema.nullish(),
    pre_build: phaseSchema.nullish(),
    build: phaseSchema.nullish(),
    post_build: phaseSchema.nullish(),
  })
  .strict();

const envSchema = z
  .object({
    shell: z.string().optional(),
    variables: variables.nullish(),
    'parameter-store': z.record(variableName, z.string()).nullish(),
    'exported-variables': z.array(variableName).nullish(),
    'secrets-manager': z.record(variableName, z.string()).nullish(),
    'git-credential-helper': yesNo.optional(),
  })
  .strict();

const artifactFields = {
  files: stringList.optional(),
  name: scalar.optional(),
  'discard-paths': yesNo.optional(),
  'base-directory': z.string().optional(),
  'exclude-paths': stringList.optional(),
  'enable-symlinks': yesNo.optional(),
  's3-prefix': z.string().optional(),
};

const secondaryArtifactSchema = z.object(artifactFields).strict();

const artifactsSchema = z
  .object({
    ...artifactFields,
    'secondary-artifacts': z.record(z.string(), secondaryArtifactSchema).optional(),
  })
  .strict();

const cacheSchema = z
  .object({
    key: scalar.optional(),
    'fallback-keys': stringList.optional(),
    action: z.enum(['restore', 'save']).optional(),
    paths: stringList.nullish(),
  })
  .strict();

export const REPORT_FORMATS = [
  'JUNITXML',
  'CUCUMBERJSON',
  'NUNITXML',
  'NUNIT3XML',
  'TESTNGXML',
  'VISUALSTUDIOTRX',
  'CLOVERXML',
  'COBERTURAXML',
  'JACOCOXML',
  'SIMPLECOV',
] as const;

const reportSchema = z
  .object({
    files: stringList,
    'base-directory': z.string().optional(),
    'discard-paths': yesNo.optional(),
    'file-format': z
      .string()
      .transform((value) => value.toUpperCase())
      .pipe(
        z.enum(REPORT_FORMATS, {
          errorMap: () => ({ message: `expected one of ${REPORT_FORMATS.join(', ')}` }),
        }),
      )
      .optional(),
  })
  .strict();

const batchEnvSchema = z
  .object({
    'compute-type': z.string().optional(),
    fleet: z.string().optional(),
    image: z.string().optional(),
    'privileged-mode': yesNo.optional(),
    type: z.string().optional(),
    variables: variables.optional(),
  })
  .strict();

const batchTaskFields = {
  identifier: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, 'identifiers are letters, digits and underscores'),
  buildspec: z.string().optional(),
  env: batchEnvSchema.optional(),
  'ignore-failure': z.boolean().optional(),
  'debug-session': z.boolean().optional(),
};

const buildListEntrySchema = z.object(batchTaskFields).strict();
const buildGraphEntrySchema = z
  .object({ ...batchTaskFields, 'depend-on': z.array(z.string()).optional() })
  .strict();

const buildMatrixSchema = z
  .object({
    static: z
      .object({
        'ignore-failure': z.boolean().optional(),
        env: batchEnvSchema.optional(),
      })
      .strict()
      .optional(),
    dynamic: z
      .object({
        buildspec: stringList.optional(),
        env: z
          .object({
            'compute-type': stringList.optional(),
            image: stringList.optional(),
            fleet: stringList.optional(),
            variables: z
              .record(variableName, z.union([scalar.transform((v) => [v]), z.array(scalar)]))
              .optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const batchSchema = z
  .object({
    'fast-fail': z.boolean().optional(),
    'build-list': z.array(buildListEntrySchema).optional(),
    'build-graph': z.array(buildGraphEntrySchema).optional(),
    'build-matrix': buildMatrixSchema.optional(),
    'build-fanout': z
      .object({
        parallelism: z.number().int().positive().optional(),
        'ignore-failure': z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const buildspecSchema = z
  .object({
    version: z.union([z.literal(0.1), z.literal(0.2), z.literal('0.1'), z.literal('0.2')], {
      errorMap: () => ({ message: 'expected version 0.2 (or the legacy 0.1)' }),
    }),
    'run-as': z.string().optional(),
    env: envSchema.nullish(),
    proxy: z
      .object({ 'upload-artifacts': yesNo.optional(), logs: yesNo.optional() })
      .strict()
      .optional(),
    batch: batchSchema.optional(),
    phases: phasesSchema.nullish(),
    reports: z.record(z.string(), reportSchema).optional(),
    artifacts: artifactsSchema.optional(),
    cache: cacheSchema.optional(),
  })
  .strict();

export type RawBuildspec = z.infer<typeof buildspecSchema>;
export type RawPhase = z.infer<typeof phaseSchema>;
export type RawArtifacts = z.infer<typeof artifactsSchema>;
export type RawBatch = z.infer<typeof batchSchema>;
export type RawBatchEnv = z.infer<typeof batchEnvSchema>;

/** Every key the schema knows, for "did you mean" hints. */
export const KNOWN_KEYS = [
  'version',
  'run-as',
  'env',
  'shell',
  'variables',
  'parameter-store',
  'exported-variables',
  'secrets-manager',
  'git-credential-helper',
  'proxy',
  'upload-artifacts',
  'logs',
  'batch',
  'fast-fail',
  'build-list',
  'build-graph',
  'build-matrix',
  'build-fanout',
  'phases',
  'install',
  'pre_build',
  'build',
  'post_build',
  'on-failure',
  'runtime-versions',
  'commands',
  'finally',
  'reports',
  'artifacts',
  'files',
  'name',
  'discard-paths',
  'base-directory',
  'exclude-paths',
  'enable-symlinks',
  's3-prefix',
  'secondary-artifacts',
  'cache',
  'key',
  'fallback-keys',
  'action',
  'paths',
  'file-format',
  'identifier',
  'buildspec',
  'depend-on',
  'ignore-failure',
  'debug-session',
  'compute-type',
  'fleet',
  'image',
  'privileged-mode',
  'type',
  'static',
  'dynamic',
] as const;
