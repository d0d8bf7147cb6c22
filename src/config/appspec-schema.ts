import { z } from 'zod';

/**
 * The shape of a CodeDeploy AppSpec file (version 0.0), as the AppSpec reference documents it,
 * for the three compute platforms: EC2/On-Premises (`os`, `files`, `permissions`, `hooks` as a
 * mapping of events to scripts), Amazon ECS and AWS Lambda (`Resources`, and `Hooks` as a list
 * of events naming Lambda functions). Unknown keys are errors: CodeDeploy's agent silently
 * ignores them, so a misspelt `hook:` would otherwise skip every script without a word.
 */

export const COMPUTE_PLATFORMS = ['ec2', 'ecs', 'lambda'] as const;
export type ComputePlatform = (typeof COMPUTE_PLATFORMS)[number];

export const PLATFORM_NAMES: Record<ComputePlatform, string> = {
  ec2: 'EC2/On-Premises',
  ecs: 'Amazon ECS',
  lambda: 'AWS Lambda',
};

/** Events where EC2/On-Premises hooks run scripts, in CodeDeploy's in-place order. */
export const EC2_EVENTS = [
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

/** Events where ECS hooks run, in CodeDeploy's order for an ECS (blue/green) deployment. */
export const ECS_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

export const LAMBDA_EVENTS = ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const;

export type LifecycleEvent =
  (typeof EC2_EVENTS)[number] | (typeof ECS_EVENTS)[number] | (typeof LAMBDA_EVENTS)[number];

export const PLATFORM_EVENTS: Record<ComputePlatform, readonly LifecycleEvent[]> = {
  ec2: EC2_EVENTS,
  ecs: ECS_EVENTS,
  lambda: LAMBDA_EVENTS,
};

export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
  ...new Set<LifecycleEvent>([...EC2_EVENTS, ...ECS_EVENTS, ...LAMBDA_EVENTS]),
];

/** Events CodeDeploy keeps for its own work; the reference says they cannot run hooks. */
export const RESERVED_EVENTS: Readonly<Record<string, string>> = {
  Start: 'the start of the deployment',
  DownloadBundle: 'copying the revision to the instance',
  Install: 'installing the revision (the files section says what is copied)',
  TestTraffic: 'routing the test listener to the replacement',
  BlockTraffic: 'taking the instance out of the load balancer',
  AllowTraffic: 'shifting traffic to the replacement',
  End: 'the end of the deployment',
};

/** Names older CodeDeploy agents used for the traffic events (the agent still maps them). */
export const LEGACY_EVENT_NAMES: Readonly<Record<string, LifecycleEvent>> = {
  BeforeELBRemove: 'BeforeBlockTraffic',
  AfterELBRemove: 'AfterBlockTraffic',
  BeforeELBAdd: 'BeforeAllowTraffic',
  AfterELBAdd: 'AfterAllowTraffic',
};

/** CodeDeploy's default and longest time for one script, and for all scripts of one event. */
export const DEFAULT_HOOK_TIMEOUT_MS = 3_600_000;
export const MAX_HOOK_TIMEOUT_SECONDS = 3600;
export const MAX_EVENT_DURATION_MS = 3_600_000;

export const FILE_EXISTS_BEHAVIORS = ['DISALLOW', 'OVERWRITE', 'RETAIN'] as const;
export const DEFAULT_FILE_EXISTS_BEHAVIOR =
  'DISALLOW' satisfies (typeof FILE_EXISTS_BEHAVIORS)[number];

export const ECS_SERVICE_TYPE = 'AWS::ECS::Service';
export const LAMBDA_FUNCTION_TYPE = 'AWS::Lambda::Function';

/** Why an event name is wrong, or undefined when the platform has it. Used for keys of hooks. */
export type EventProblem = (name: string, platform: ComputePlatform) => string | undefined;

/**
 * A zod issue raised with this flag is located at the key itself rather than at its value,
 * so that "unknown lifecycle event" points at the name.
 */
export const AT_KEY = { atKey: true } as const;

function eventKey(platform: ComputePlatform, problem: EventProblem) {
  return z.string().superRefine((name, ctx) => {
    const message = problem(name, platform);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, params: AT_KEY });
  });
}

const PLACEHOLDER = /^<[^>]*>$|\$\{|%\{/;

function placeholderHint(value: unknown): string {
  return typeof value === 'string' && PLACEHOLDER.test(value.trim())
    ? ' (a template placeholder: substitute it before deploying)'
    : '';
}

function text(what: string) {
  return z
    .string({ required_error: `${what} is required`, invalid_type_error: `expected ${what}` })
    .refine((value) => value.trim() !== '', `${what} is blank`);
}

/** YAML reads `timeout: 300` as a number; the agent also accepts "300" (it calls to_i). */
const timeoutSeconds = z
  .union([z.number(), z.string()], {
    errorMap: () => ({ message: 'expected whole seconds from 1 to 3600' }),
  })
  .transform((value, ctx) => {
    const seconds =
      typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_HOOK_TIMEOUT_SECONDS)
      return seconds;
    ctx.addIssue({
      code: 'custom',
      message: `expected whole seconds from 1 to ${MAX_HOOK_TIMEOUT_SECONDS} (CodeDeploy's limit for a hook), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  });

const userName = text('a user name');

const scriptSchema = z
  .object(
    {
      location: text('location (the script, relative to the root of the revision)'),
      timeout: timeoutSeconds.optional(),
      runas: userName.optional(),
    },
    {
      invalid_type_error: 'expected a script such as { location: scripts/start.sh, timeout: 300 }',
    },
  )
  .strict();

function ec2HooksSchema(problem: EventProblem) {
  return z.record(
    eventKey('ec2', problem),
    z.array(scriptSchema, {
      invalid_type_error: 'expected a list of scripts (- location: scripts/start.sh)',
    }),
    { invalid_type_error: 'expected a mapping of lifecycle events to lists of scripts' },
  );
}

const version = z.union([z.literal(0), z.literal('0.0')], {
  errorMap: () => ({ message: 'expected version: 0.0 (the only AppSpec version)' }),
});

const fileSchema = z
  .object(
    {
      source: text('source (a file or folder of the revision; / for all of it)'),
      destination: text('destination (where the files go)'),
    },
    { invalid_type_error: 'expected { source, destination }' },
  )
  .strict();

/** `mode: 644` is a YAML number; read its digits as octal, as chmod does. */
const octalMode = z
  .union([z.number(), z.string()], {
    errorMap: () => ({ message: 'expected an octal mode such as 644 or 0755' }),
  })
  .transform((value, ctx) => {
    const digits = String(value).trim();
    if (/^[0-7]{3,4}$/.test(digits)) return digits;
    ctx.addIssue({
      code: 'custom',
      message: `"${digits}" is not an octal mode such as 644 or 0755`,
    });
    return z.NEVER;
  });

const stringList = z.union([z.string().transform((value) => [value]), z.array(z.string())], {
  errorMap: () => ({ message: 'expected a string or a list of strings' }),
});

const permissionSchema = z
  .object(
    {
      object: text('object (the file or folder the permissions apply to)'),
      pattern: z.string().optional(),
      except: stringList.optional(),
      owner: userName.optional(),
      group: text('a group name').optional(),
      mode: octalMode.optional(),
      acls: z
        .array(z.string(), {
          invalid_type_error: 'expected a list of ACL entries such as u:bob:rw',
        })
        .optional(),
      context: z
        .object({
          user: z.string().optional(),
          type: z.string().optional(),
          range: z.string().optional(),
        })
        .strict()
        .optional(),
      type: z
        .array(
          z.enum(['file', 'directory'], {
            errorMap: () => ({ message: 'expected file or directory' }),
          }),
        )
        .optional(),
    },
    { invalid_type_error: 'expected a permission such as { object: app, mode: 755 }' },
  )
  .strict();

export function ec2Schema(problem: EventProblem) {
  return z
    .object({
      version,
      os: z.enum(['linux', 'windows'], {
        errorMap: (issue, ctx) => ({
          message:
            ctx.data === undefined
              ? 'os is required in an EC2/On-Premises appspec: linux or windows'
              : 'expected linux or windows',
        }),
      }),
      files: z
        .array(fileSchema, { invalid_type_error: 'expected a list of { source, destination }' })
        .nullish(),
      file_exists_behavior: z
        .enum(FILE_EXISTS_BEHAVIORS, {
          errorMap: () => ({ message: `expected one of ${FILE_EXISTS_BEHAVIORS.join(', ')}` }),
        })
        .optional(),
      permissions: z
        .array(permissionSchema, { invalid_type_error: 'expected a list of permissions' })
        .nullish(),
      hooks: ec2HooksSchema(problem).nullish(),
    })
    .strict();
}

/** The Lambda API's FunctionName: a name, a partial ARN or an ARN, with an optional qualifier. */
const FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

const functionName = z
  .string({ invalid_type_error: 'expected the name of a Lambda function' })
  .superRefine((name, ctx) => {
    if (name.trim() === '') {
      ctx.addIssue({ code: 'custom', message: 'the Lambda function name is blank' });
    } else if (!FUNCTION_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${name}" is not a Lambda function name or ARN${placeholderHint(name)}`,
      });
    }
  });

const count = z
  .number({ invalid_type_error: 'expected a whole number, 0 or more' })
  .int('expected a whole number, 0 or more')
  .min(0, 'expected a whole number, 0 or more');

/** ContainerPort is a number in the reference; "80" (quoted) is read as 80. */
const port = z.unknown().transform((value, ctx) => {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number === 'number' && Number.isInteger(number) && number >= 1 && number <= 65535)
    return number;
  ctx.addIssue({
    code: 'custom',
    message:
      value === undefined
        ? 'ContainerPort is required'
        : `expected a port number from 1 to 65535, got ${JSON.stringify(value)}${placeholderHint(value)}`,
  });
  return z.NEVER;
});

const ecsProperties = z
  .object(
    {
      TaskDefinition: text('TaskDefinition (the task definition ARN)'),
      LoadBalancerInfo: z
        .object(
          { ContainerName: text('ContainerName'), ContainerPort: port },
          { required_error: 'LoadBalancerInfo is required: ContainerName and ContainerPort' },
        )
        .strict(),
      PlatformVersion: z.string().optional(),
      NetworkConfiguration: z
        .object({
          AwsvpcConfiguration: z
            .object(
              {
                Subnets: stringList.optional(),
                SecurityGroups: stringList.optional(),
                AssignPublicIp: z
                  .enum(['ENABLED', 'DISABLED'], {
                    errorMap: () => ({ message: 'expected ENABLED or DISABLED' }),
                  })
                  .optional(),
              },
              {
                required_error:
                  'AwsvpcConfiguration is required: Subnets, SecurityGroups, AssignPublicIp',
              },
            )
            .strict(),
        })
        .strict()
        .optional(),
      CapacityProviderStrategy: z
        .array(
          z
            .object({
              Base: count.optional(),
              CapacityProvider: text('CapacityProvider'),
              Weight: count.optional(),
            })
            .strict(),
        )
        .optional(),
    },
    { required_error: 'Properties is required: TaskDefinition and LoadBalancerInfo' },
  )
  .strict();

const versionText = z.union([z.string(), z.number().transform(String)], {
  errorMap: () => ({ message: 'expected a function version' }),
});

const lambdaProperties = z
  .object(
    {
      Name: text('Name (the function to deploy)'),
      Alias: text('Alias'),
      CurrentVersion: versionText,
      TargetVersion: versionText,
    },
    { required_error: 'Properties is required: Name, Alias, CurrentVersion, TargetVersion' },
  )
  .strict();

const resourceSchema = z.discriminatedUnion(
  'Type',
  [
    z.object({ Type: z.literal(ECS_SERVICE_TYPE), Properties: ecsProperties }).strict(),
    z.object({ Type: z.literal(LAMBDA_FUNCTION_TYPE), Properties: lambdaProperties }).strict(),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator'
        ? { message: `expected Type: ${ECS_SERVICE_TYPE} or ${LAMBDA_FUNCTION_TYPE}` }
        : issue.code === 'invalid_type'
          ? { message: 'expected a resource with Type and Properties' }
          : { message: ctx.defaultError },
  },
);

/** Phoenix's extension: what to run for a Lambda function an ECS or Lambda hook names. */
const commandSchema = z.union(
  [
    text('a command'),
    z.object({ command: text('command'), timeout: timeoutSeconds.optional() }).strict(),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union'
        ? { message: 'expected a command, or { command, timeout }' }
        : { message: ctx.defaultError },
  },
);

export function serviceSchema(platform: 'ecs' | 'lambda', problem: EventProblem) {
  return z
    .object({
      version,
      Resources: z
        .array(
          z.record(z.string(), resourceSchema, {
            invalid_type_error: 'expected a named resource (- TargetService: ...)',
          }),
          {
            required_error:
              'Resources is required in an ECS or Lambda appspec: the ECS service or Lambda function to deploy',
            invalid_type_error: 'expected a list of resources (- TargetService: ...)',
          },
        )
        .min(1, 'Resources lists nothing: name the ECS service or Lambda function to deploy'),
      Hooks: z
        .array(
          z.record(eventKey(platform, problem), functionName, {
            invalid_type_error: 'expected a mapping such as AfterAllowTestTraffic: FunctionName',
          }),
          { invalid_type_error: 'expected a list such as - AfterAllowTestTraffic: FunctionName' },
        )
        .nullish(),
      PhoenixCommands: z.record(z.string(), commandSchema).optional(),
    })
    .strict();
}

export type RawEc2Appspec = z.infer<ReturnType<typeof ec2Schema>>;
export type RawServiceAppspec = z.infer<ReturnType<typeof serviceSchema>>;
export type RawScript = z.infer<typeof scriptSchema>;
export type RawPermission = z.infer<typeof permissionSchema>;
export type RawResource = z.infer<typeof resourceSchema>;
export type RawCommand = z.infer<typeof commandSchema>;

/**
 * Keys of ECS and Lambda appspecs in the spelling the schema uses. AWS's own examples write
 * them both ways (`Resources`/`resources`, `Name`/`name`), so Phoenix matches them whatever
 * their case.
 */
export const SERVICE_KEYS = [
  'version',
  'Resources',
  'Hooks',
  'Type',
  'Properties',
  'TaskDefinition',
  'LoadBalancerInfo',
  'ContainerName',
  'ContainerPort',
  'PlatformVersion',
  'NetworkConfiguration',
  'AwsvpcConfiguration',
  'Subnets',
  'SecurityGroups',
  'AssignPublicIp',
  'CapacityProviderStrategy',
  'Base',
  'CapacityProvider',
  'Weight',
  'Name',
  'Alias',
  'CurrentVersion',
  'TargetVersion',
  'PhoenixCommands',
] as const;

/** Every key of EC2/On-Premises appspecs, for "did you mean" hints. */
export const EC2_KEYS = [
  'version',
  'os',
  'files',
  'source',
  'destination',
  'file_exists_behavior',
  'permissions',
  'object',
  'pattern',
  'except',
  'owner',
  'group',
  'mode',
  'acls',
  'context',
  'user',
  'type',
  'range',
  'hooks',
  'location',
  'timeout',
  'runas',
] as const;

/** Every key of ECS and Lambda appspecs, with Phoenix's PhoenixCommands, for hints. */
export const SERVICE_HINT_KEYS = [...SERVICE_KEYS, 'command', 'timeout'] as const;

/** Advice for keys people write that CodeDeploy never had. */
export const KEY_ADVICE: Readonly<Record<string, string>> = {
  overwrite:
    'CodeDeploy ignores it; file_exists_behavior (at the top level) says what happens to files already there',
  sudo: 'not part of the AppSpec reference; use runas',
};
