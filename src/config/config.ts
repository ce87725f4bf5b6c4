import { z } from 'zod';

/**
 * Every setting safeline reads from the environment, validated once at start-up.
 * Keep this schema, .env.example and the README's configuration table in step
 * (tests/config/env-example.test.ts checks the first two).
 */
const port = z.coerce.number().int().min(1).max(65535);
/** 0 asks the kernel for a free port (tests). */
const listenPort = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    SAFELINE_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: listenPort.default(3000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI')
      .optional(),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/, 'letters, digits, ":", "_" or "-" only').default('safeline'),
    SHUTDOWN_TIMEOUT_MS: positiveMs.default(10_000),
    SMS_GATEWAY: z.enum(['emulator', 'africastalking']).default('emulator'),
    AT_USERNAME: z.string().min(1).optional(),
    AT_API_KEY: z.string().min(1).optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    EMBEDDED_MONGODB_PORT: port.default(27017),
  })
  .superRefine((env, ctx) => {
    if (env.SMS_GATEWAY === 'africastalking') {
      for (const key of ['AT_USERNAME', 'AT_API_KEY'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when SMS_GATEWAY=africastalking' });
      }
    }
  });

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  readonly role: Role;
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  /** Absent only where a launcher (npm run dev, the tests) provides its own server. */
  readonly mongodbUri: string | undefined;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly shutdownTimeoutMs: number;
  readonly smsGateway:
    | { readonly kind: 'emulator' }
    | { readonly kind: 'africastalking'; readonly username: string; readonly apiKey: string };
  readonly dataDir: string;
  readonly embeddedMongodbPort: number;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** One line that names every variable at fault, fit for stderr. */
export class ConfigError extends Error {
  constructor(readonly variables: string[], message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function describe(issue: z.core.$ZodIssue, env: Environment): string {
  const variable = String(issue.path[0] ?? 'environment');
  const raw = env[variable];
  const got = raw === undefined || raw === '' ? 'not set' : `got "${raw.length > 40 ? `${raw.slice(0, 40)}...` : raw}"`;
  // Never echo secrets back into a log.
  const shown = /KEY|SECRET|TOKEN|PASSWORD/.test(variable) ? (raw ? 'set' : 'not set') : got;
  return `${variable} ${issue.message.replace(/^Invalid input: /, '')} (${shown})`;
}

/** Pure: validates the given environment into a frozen, typed Config. Throws ConfigError. */
export function parseConfig(env: Environment): Config {
  // Empty strings count as unset, as docker-compose passes `VAR=` through.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const variables = [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? 'environment')))];
    const details = result.error.issues.map((issue) => describe(issue, env)).join('; ');
    throw new ConfigError(variables, `invalid configuration: ${details}`);
  }
  const e = result.data;
  return deepFreeze<Config>({
    role: e.SAFELINE_ROLE,
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    smsGateway:
      e.SMS_GATEWAY === 'africastalking'
        ? { kind: 'africastalking', username: e.AT_USERNAME ?? '', apiKey: e.AT_API_KEY ?? '' }
        : { kind: 'emulator' },
    dataDir: e.DATA_DIR,
    embeddedMongodbPort: e.EMBEDDED_MONGODB_PORT,
  });
}

/** The one place in src/ that reads process.env. */
export function readEnvironment(): Environment {
  return { ...process.env };
}
