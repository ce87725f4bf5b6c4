import { isIP } from 'node:net';
import { z } from 'zod';
import { readRoutesFile, type SmsRoute } from './sms-routes';

/**
 * Every setting safeline reads from the environment, validated once at start-up.
 * Keep this schema, .env.example and the README's configuration table in step
 * (tests/config/env-example.test.ts checks the first two).
 */
const port = z.coerce.number().int().min(1).max(65535);
/** 0 asks the kernel for a free port (tests). */
const listenPort = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();
const base64Key = z
  .string()
  .refine(
    (value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32,
    'must be 32 random bytes in base64 (openssl rand -base64 32)',
  );
const navKey = z.string().regex(/^[0-9#*]{1,3}$/, 'one to three of 0-9, # or *');
const perMinute = z.coerce.number().int().min(0);
/** One IPv4 or IPv6 address, or a CIDR block of either. */
const isIpOrCidr = (entry: string): boolean => {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

const httpUrl = z.string().regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http:// or https:// URL without query');

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
    SMS_GATEWAY: z.enum(['emulator', 'africastalking', 'kannel']).default('emulator'),
    AT_USERNAME: z.string().min(1).optional(),
    AT_API_KEY: z.string().min(1).optional(),
    AT_BASE_URL: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http:// or https:// URL without query')
      .optional(),
    KANNEL_SENDSMS_URL: httpUrl.optional(),
    KANNEL_USERNAME: z.string().min(1).optional(),
    KANNEL_PASSWORD: z.string().min(1).optional(),
    KANNEL_SMSC: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, "_", "." or "-"').optional(),
    KANNEL_ADMIN_URL: httpUrl.optional(),
    KANNEL_ADMIN_PASSWORD: z.string().min(1).optional(),
    KANNEL_CALLBACK_BASE_URL: httpUrl.optional(),
    SMS_SENDER_ID: z
      .string()
      .regex(/^([A-Za-z0-9]{1,11}|\d{1,15})$/, 'must be a sender ID of at most 11 letters and digits, or a short code (digits)')
      .optional(),
    SMS_SEND_TIMEOUT_MS: positiveMs.default(10_000),
    SMS_CALLBACK_TOKEN: z.string().min(16, 'must be at least 16 characters'),
    SMS_PRICE_PER_PART: z.coerce.number().min(0).default(20),
    SMS_MAX_PER_SECOND: z.coerce.number().positive().default(100),
    SMS_ROUTES_FILE: z.string().min(1).optional(),
    CAMPAIGN_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(100),
    CAMPAIGN_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    CAMPAIGN_RETRY_DELAY_MS: z.coerce.number().int().min(0).default(10_000),
    DELIVERY_REPORT_UNKNOWN_AFTER_MS: z.coerce.number().int().min(0).default(120_000),
    DELIVERY_REPORT_MAX_UNKNOWN_PER_MINUTE: perMinute.default(1_000),
    DELIVERY_REPORT_WINDOW_HOURS: z.coerce.number().positive().max(24 * 30).default(72),
    CAMPAIGN_REPORT_DAYS: z.coerce.number().positive().max(3650).default(14),
    SMS_EMULATOR_REPORT_URL: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http:// or https:// URL without query')
      .optional(),
    SMS_EMULATOR_REPORT_DELAY_MS: z.coerce.number().int().min(0).default(2_000),
    SMS_EMULATOR_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0.05),
    USSD_CALLBACK_TOKEN: z.string().min(16, 'must be at least 16 characters'),
    PHONE_HASH_KEY: base64Key,
    PHONE_ENCRYPTION_KEYS: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/,
        'must be "keyId:base64key[,keyId:base64key...]", the current key first',
      )
      .refine(
        (value) => value.split(',').every((pair) => Buffer.from(pair.split(':')[1] ?? '', 'base64').length === 32),
        'each key must be 32 bytes, base64',
      ),
    FLOWS_DIR: z.string().min(1).default('./flows'),
    TEMPLATES_DIR: z.string().min(1).default('./templates'),
    USSD_ENTRY_FLOW: z.string().regex(/^[a-z][a-z0-9_]*$/).default('main'),
    USSD_SCREEN_LIMIT_GSM7: z.coerce.number().int().min(40).max(182).default(160),
    USSD_SCREEN_LIMIT_UCS2: z.coerce.number().int().min(20).max(91).default(80),
    USSD_KEY_MORE: navKey.default('98'),
    USSD_KEY_BACK: navKey.default('0'),
    USSD_KEY_HOME: navKey.default('00'),
    USSD_SESSION_TTL_SECONDS: z.coerce.number().int().min(30).default(300),
    USSD_RESUME_WINDOW_SECONDS: z.coerce.number().int().min(0).default(300),
    USSD_MAX_WRONG_TRIES: z.coerce.number().int().min(1).max(10).default(3),
    // The second USSD channel: operators' SMPP USSD binds through Kannel's get-url (off while no smsc-id is named).
    USSD_KANNEL_SMSC_IDS: z
      .string()
      .regex(/^([A-Za-z0-9_.-]{1,40}(,[A-Za-z0-9_.-]{1,40})*)?$/, 'comma-separated Kannel smsc-ids (letters, digits, "_", "." or "-")')
      .default(''),
    // Kannel (max-messages = 1) cuts a reply silently at one SMS: 160 GSM-7 septets, 70 UCS-2 characters.
    USSD_KANNEL_SCREEN_LIMIT_GSM7: z.coerce.number().int().min(40).max(160).default(160),
    USSD_KANNEL_SCREEN_LIMIT_UCS2: z.coerce.number().int().min(20).max(70).default(70),
    USSD_KANNEL_HOP_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(2_000),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    TRUST_PROXY: z.string().min(1).default('loopback'),
    CALLBACK_ALLOWED_IPS: z
      .string()
      .refine(
        (value) => value.split(',').every((entry) => isIpOrCidr(entry.trim())),
        'must be IP addresses or CIDR blocks, comma-separated',
      )
      .optional(),
    CALLBACK_MAX_PER_IP_PER_MINUTE: perMinute.default(30_000),
    USSD_MAX_HOPS_PER_PHONE_PER_MINUTE: perMinute.default(60),
    SMS_MAX_PER_PHONE_PER_MINUTE: perMinute.default(20),
    STAFF_SESSION_TTL_SECONDS: z.coerce.number().int().min(300).default(12 * 3600),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
    LOGIN_MAX_FAILURES_PER_ACCOUNT_NEW_DEVICES: z.coerce.number().int().min(1).default(50),
    LOGIN_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(10).default(900),
    LOGIN_FIRST_DELAY_SECONDS: z.coerce.number().int().min(1).default(30),
    HOTLINE_JOIN_WINDOW_HOURS: z.coerce.number().min(0).max(24 * 30).default(24),
    HOTLINE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    HOTLINE_ALERTS_PER_HOUR: z.coerce.number().int().min(1).max(1_000).default(20),
    DATA_DIR: z.string().min(1).default('./data'),
    EMBEDDED_MONGODB_PORT: port.default(27017),
  })
  .superRefine((env, ctx) => {
    const keys = [env.USSD_KEY_MORE, env.USSD_KEY_BACK, env.USSD_KEY_HOME];
    if (new Set(keys).size !== keys.length) {
      ctx.addIssue({ code: 'custom', path: ['USSD_KEY_MORE'], message: 'USSD_KEY_MORE, USSD_KEY_BACK and USSD_KEY_HOME must differ' });
    }
    if (env.CAMPAIGN_REPORT_DAYS * 24 < env.DELIVERY_REPORT_WINDOW_HOURS) {
      ctx.addIssue({
        code: 'custom',
        path: ['CAMPAIGN_REPORT_DAYS'],
        message: 'must be at least DELIVERY_REPORT_WINDOW_HOURS (a run is counted live until its reports can come)',
      });
    }
    // With a routes file, the routes name the gateways they use (checked once the file is read).
    if (env.SMS_GATEWAY === 'africastalking' && !env.SMS_ROUTES_FILE) {
      for (const key of ['AT_USERNAME', 'AT_API_KEY'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when SMS_GATEWAY=africastalking' });
      }
    }
    if (env.SMS_GATEWAY === 'kannel' && !env.SMS_ROUTES_FILE) {
      for (const key of [
        'KANNEL_SENDSMS_URL', 'KANNEL_USERNAME', 'KANNEL_PASSWORD', 'KANNEL_SMSC', 'KANNEL_ADMIN_URL', 'KANNEL_ADMIN_PASSWORD',
      ] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when SMS_GATEWAY=kannel' });
      }
    }
  });

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  readonly role: Role;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Express's "trust proxy": which proxies' X-Forwarded-* to believe (client IP for throttling, HTTPS for Secure cookies). */
    readonly trustProxy: boolean | number | string;
  };
  readonly logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  /** Absent only where a launcher (npm run dev, the tests) provides its own server. */
  readonly mongodbUri: string | undefined;
  readonly redisUrl: string;
  /** Bearer token of /metrics and of /readyz's details; /metrics is off without it. */
  readonly metricsToken: string | undefined;
  readonly queuePrefix: string;
  readonly shutdownTimeoutMs: number;
  readonly smsGateway:
    | { readonly kind: 'emulator' }
    | { readonly kind: 'africastalking'; readonly username: string; readonly apiKey: string; readonly baseUrl?: string }
    | {
        readonly kind: 'kannel';
        /** smsbox's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms. */
        readonly sendsmsUrl: string;
        readonly username: string;
        readonly password: string;
        /** The Kannel smsc-id messages leave over. */
        readonly smsc: string;
        /** bearerbox's admin URL, whose status.txt /readyz reads. */
        readonly adminUrl: string;
        readonly adminPassword: string;
        /** Where Kannel reaches safeline for delivery reports (default: this process's own URL). */
        readonly callbackBaseUrl?: string;
      };
  /**
   * Where SMS leave, by number: from SMS_ROUTES_FILE, else one route for every number from SMS_GATEWAY,
   * KANNEL_SMSC, SMS_MAX_PER_SECOND, SMS_PRICE_PER_PART and SMS_SENDER_ID.
   */
  readonly routes: readonly SmsRoute[];
  /** The gateway accounts the routes use (a routes file may use both). */
  readonly gatewayAccounts: {
    readonly africastalking?: Omit<Extract<Config['smsGateway'], { kind: 'africastalking' }>, 'kind'>;
    readonly kannel?: Omit<Extract<Config['smsGateway'], { kind: 'kannel' }>, 'kind' | 'smsc'>;
  };
  readonly sms: {
    /** Sender ID or short code of outgoing SMS; the gateway account's default when absent. */
    readonly senderId?: string;
    /** Longest wait for the gateway to answer one send; past it the send counts as a transient failure. */
    readonly sendTimeoutMs: number;
    /** Secret in AT's SMS callback URLs (/sms/inbound, /sms/delivery, /sms/optout). */
    readonly callbackToken: string;
    /** XOF per SMS part, for cost estimates before sending. */
    readonly pricePerPart: number;
    /** Messages per second for all campaigns together. */
    readonly maxPerSecond: number;
    readonly batchSize: number;
    /** Retries of a recipient's transient failure before it counts as failed. */
    readonly maxRetries: number;
    /** First retry after this long, then 4 times longer each time. */
    readonly retryDelayMs: number;
    /** A delivery report for a messageId not (yet) recorded waits this long before it counts as unknown. */
    readonly unknownReportAfterMs: number;
    /** Delivery reports for messageIds unknown when they arrive, taken per minute; past it they are refused (0: no bound). */
    readonly maxUnknownReportsPerMinute: number;
    /** A delivery report finds its message's run this long after the send at least; later, it counts as unknown. */
    readonly reportWindowMs: number;
    /** An ended run's live counters stay in Redis this long, then its figures are read from MongoDB. */
    readonly reportPeriodMs: number;
    /** Where the emulator posts its delivery reports (default: this process's own /sms/delivery). */
    readonly emulator: { readonly reportUrl?: string; readonly reportDelayMs: number; readonly failureRate: number };
  };
  readonly ussd: {
    readonly callbackToken: string;
    readonly entryFlow: string;
    readonly flowsDir: string;
    readonly templatesDir: string;
    readonly limits: { readonly gsm7: number; readonly ucs2: number };
    readonly keys: { readonly more: string; readonly back: string; readonly home: string };
    readonly sessionTtlSeconds: number;
    readonly resumeWindowSeconds: number;
    readonly maxWrongTries: number;
    /** The SMPP channel through Kannel's get-url (GET /ussd/kannel); off when `smscIds` is empty. */
    readonly kannel: {
      /** Kannel smsc-ids of the operators' USSD binds: a hop from another is answered with a polite last screen. */
      readonly smscIds: readonly string[];
      readonly limits: { readonly gsm7: number; readonly ucs2: number };
      /** Past this, the hop gets a polite last screen (Kannel's own http-timeout must be longer). */
      readonly hopTimeoutMs: number;
    };
  };
  /** AT's callbacks (/ussd, /ussd/events, /sms/*): who may call them and how often. 0 turns a limit off. */
  readonly callbacks: {
    /** IP addresses and CIDR blocks the gateway calls from; empty: any address. */
    readonly allowedIps: readonly string[];
    /** Requests per minute per source IP outside the allow-list (allow-listed gateway addresses are not limited). */
    readonly maxPerIpPerMinute: number;
    readonly ussdMaxHopsPerPhonePerMinute: number;
    /** Incoming SMS and opt-outs per phone number per minute. */
    readonly smsMaxPerPhonePerMinute: number;
  };
  readonly secrets: {
    /** base64, for the keyed hash (HMAC-SHA256) that finds a phone without storing it. */
    readonly phoneHashKey: string;
    /** AES-256-GCM keys, the current one first; older ones still decrypt. */
    readonly phoneEncryptionKeys: ReadonlyArray<{ readonly id: string; readonly key: string }>;
  };
  readonly staff: {
    readonly sessionTtlSeconds: number;
    readonly loginLimits: {
      /** Failures per account from one client (an IP, or a device that signed in to it before). */
      readonly perAccount: number;
      readonly perIp: number;
      /** Failures per account from all the clients that never signed in to it. */
      readonly perAccountNewDevices: number;
      readonly windowSeconds: number;
      /** The first wait past a limit; it doubles with each further failure, up to the window. */
      readonly firstDelaySeconds: number;
    };
  };
  readonly hotline: {
    /** A second request from the same number within this many hours joins the open one. */
    readonly joinWindowHours: number;
    /** Closed requests keep the caller's number this many days, then the purge erases it. */
    readonly retentionDays: number;
    /** Urgent alerts per agent in any hour; past it one summary SMS, and the queue shows the rest. */
    readonly alertsPerHour: number;
  };
  readonly dataDir: string;
  readonly embeddedMongodbPort: number;
}

/** Variables `npm run dev` and the tests may generate when they are not set. */
export const GENERATED_SECRETS = [
  'USSD_CALLBACK_TOKEN',
  'SMS_CALLBACK_TOKEN',
  'PHONE_HASH_KEY',
  'PHONE_ENCRYPTION_KEYS',
  'METRICS_TOKEN',
] as const;

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
  // A URL's password goes before the value is cut short (cut first, a password without its "@" would show).
  // Anything before the last "@" of a URL may be a password, even without a scheme.
  const raw = /_(URI|URL)$/.test(variable) ? env[variable]?.replace(/^([a-z][a-z0-9+.-]*:\/\/)?\S*@/i, '$1***@') : env[variable];
  const got = raw === undefined || raw === '' ? 'not set' : `got "${raw.length > 40 ? `${raw.slice(0, 40)}...` : raw}"`;
  // Never echo secrets back into a log.
  const shown = /KEY|SECRET|TOKEN|PASSWORD/.test(variable) ? (raw ? 'set' : 'not set') : got;
  return `${variable} ${issue.message.replace(/^Invalid input: /, '')} (${shown})`;
}

function gatewayOf(e: z.infer<typeof configSchema>): Config['smsGateway'] {
  if (e.SMS_GATEWAY === 'africastalking') {
    return {
      kind: 'africastalking',
      username: e.AT_USERNAME ?? '',
      apiKey: e.AT_API_KEY ?? '',
      ...(e.AT_BASE_URL ? { baseUrl: e.AT_BASE_URL } : {}),
    };
  }
  if (e.SMS_GATEWAY === 'kannel') {
    return {
      kind: 'kannel',
      sendsmsUrl: e.KANNEL_SENDSMS_URL ?? '',
      username: e.KANNEL_USERNAME ?? '',
      password: e.KANNEL_PASSWORD ?? '',
      smsc: e.KANNEL_SMSC ?? '',
      adminUrl: e.KANNEL_ADMIN_URL ?? '',
      adminPassword: e.KANNEL_ADMIN_PASSWORD ?? '',
      ...(e.KANNEL_CALLBACK_BASE_URL ? { callbackBaseUrl: e.KANNEL_CALLBACK_BASE_URL } : {}),
    };
  }
  return { kind: 'emulator' };
}

const KANNEL_ACCOUNT = ['KANNEL_SENDSMS_URL', 'KANNEL_USERNAME', 'KANNEL_PASSWORD', 'KANNEL_ADMIN_URL', 'KANNEL_ADMIN_PASSWORD'] as const;
const AT_ACCOUNT = ['AT_USERNAME', 'AT_API_KEY'] as const;

function accountsOf(e: z.infer<typeof configSchema>): Config['gatewayAccounts'] {
  const kannel = KANNEL_ACCOUNT.every((key) => e[key]);
  return {
    ...(e.AT_USERNAME && e.AT_API_KEY
      ? { africastalking: { username: e.AT_USERNAME, apiKey: e.AT_API_KEY, ...(e.AT_BASE_URL ? { baseUrl: e.AT_BASE_URL } : {}) } }
      : {}),
    ...(kannel
      ? {
          kannel: {
            sendsmsUrl: e.KANNEL_SENDSMS_URL ?? '',
            username: e.KANNEL_USERNAME ?? '',
            password: e.KANNEL_PASSWORD ?? '',
            adminUrl: e.KANNEL_ADMIN_URL ?? '',
            adminPassword: e.KANNEL_ADMIN_PASSWORD ?? '',
            ...(e.KANNEL_CALLBACK_BASE_URL ? { callbackBaseUrl: e.KANNEL_CALLBACK_BASE_URL } : {}),
          },
        }
      : {}),
  };
}

/** The routes file's routes, or one route for every number as SMS_GATEWAY and its settings describe it. */
function routesOf(e: z.infer<typeof configSchema>): { routes: SmsRoute[]; problems: string[]; variables: string[] } {
  if (!e.SMS_ROUTES_FILE) {
    const route: SmsRoute = {
      name: 'default',
      operator: 'every operator',
      prefixes: ['+'],
      gateway: e.SMS_GATEWAY,
      ...(e.SMS_GATEWAY === 'kannel' ? { smsc: e.KANNEL_SMSC ?? '' } : {}),
      maxPerSecond: e.SMS_MAX_PER_SECOND,
      pricePerPart: e.SMS_PRICE_PER_PART,
      ...(e.SMS_SENDER_ID ? { senderId: e.SMS_SENDER_ID } : {}),
    };
    return { routes: [route], problems: [], variables: [] };
  }
  const file = e.SMS_ROUTES_FILE;
  const { routes, problems } = readRoutesFile(file);
  if (problems.length) {
    return { routes, problems: problems.map((problem) => `SMS_ROUTES_FILE ${file}: ${problem}`), variables: ['SMS_ROUTES_FILE'] };
  }
  const missing: string[] = [];
  const variables: string[] = [];
  for (const [gateway, keys] of [['kannel', KANNEL_ACCOUNT], ['africastalking', AT_ACCOUNT]] as const) {
    const user = routes.find((route) => route.gateway === gateway);
    if (!user) continue;
    for (const key of keys) {
      if (e[key]) continue;
      variables.push(key);
      missing.push(`${key} is required: route "${user.name}" of SMS_ROUTES_FILE uses ${gateway} (not set)`);
    }
  }
  return { routes, problems: missing, variables };
}

/** Pure but for reading SMS_ROUTES_FILE: validates the given environment into a frozen, typed Config. Throws ConfigError. */
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
  const routing = routesOf(e);
  if (routing.problems.length) throw new ConfigError(routing.variables, `invalid configuration: ${routing.problems.join('; ')}`);
  return deepFreeze<Config>({
    role: e.SAFELINE_ROLE,
    http: {
      host: e.HOST,
      port: e.PORT,
      trustProxy:
        e.TRUST_PROXY === 'true'
          ? true
          : e.TRUST_PROXY === 'false'
            ? false
            : /^\d+$/.test(e.TRUST_PROXY)
              ? Number(e.TRUST_PROXY)
              : e.TRUST_PROXY,
    },
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    metricsToken: e.METRICS_TOKEN,
    queuePrefix: e.QUEUE_PREFIX,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    smsGateway: gatewayOf(e),
    routes: routing.routes,
    gatewayAccounts: accountsOf(e),
    sms: {
      ...(e.SMS_SENDER_ID ? { senderId: e.SMS_SENDER_ID } : {}),
      sendTimeoutMs: e.SMS_SEND_TIMEOUT_MS,
      callbackToken: e.SMS_CALLBACK_TOKEN,
      pricePerPart: e.SMS_PRICE_PER_PART,
      maxPerSecond: e.SMS_MAX_PER_SECOND,
      batchSize: e.CAMPAIGN_BATCH_SIZE,
      maxRetries: e.CAMPAIGN_MAX_RETRIES,
      retryDelayMs: e.CAMPAIGN_RETRY_DELAY_MS,
      unknownReportAfterMs: e.DELIVERY_REPORT_UNKNOWN_AFTER_MS,
      maxUnknownReportsPerMinute: e.DELIVERY_REPORT_MAX_UNKNOWN_PER_MINUTE,
      reportWindowMs: Math.round(e.DELIVERY_REPORT_WINDOW_HOURS * 3_600_000),
      reportPeriodMs: Math.round(e.CAMPAIGN_REPORT_DAYS * 86_400_000),
      emulator: {
        ...(e.SMS_EMULATOR_REPORT_URL ? { reportUrl: e.SMS_EMULATOR_REPORT_URL } : {}),
        reportDelayMs: e.SMS_EMULATOR_REPORT_DELAY_MS,
        failureRate: e.SMS_EMULATOR_FAILURE_RATE,
      },
    },
    ussd: {
      callbackToken: e.USSD_CALLBACK_TOKEN,
      entryFlow: e.USSD_ENTRY_FLOW,
      flowsDir: e.FLOWS_DIR,
      templatesDir: e.TEMPLATES_DIR,
      limits: { gsm7: e.USSD_SCREEN_LIMIT_GSM7, ucs2: e.USSD_SCREEN_LIMIT_UCS2 },
      keys: { more: e.USSD_KEY_MORE, back: e.USSD_KEY_BACK, home: e.USSD_KEY_HOME },
      sessionTtlSeconds: e.USSD_SESSION_TTL_SECONDS,
      resumeWindowSeconds: e.USSD_RESUME_WINDOW_SECONDS,
      maxWrongTries: e.USSD_MAX_WRONG_TRIES,
      kannel: {
        smscIds: e.USSD_KANNEL_SMSC_IDS.split(',').filter(Boolean),
        limits: { gsm7: e.USSD_KANNEL_SCREEN_LIMIT_GSM7, ucs2: e.USSD_KANNEL_SCREEN_LIMIT_UCS2 },
        hopTimeoutMs: e.USSD_KANNEL_HOP_TIMEOUT_MS,
      },
    },
    callbacks: {
      allowedIps: (e.CALLBACK_ALLOWED_IPS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean),
      maxPerIpPerMinute: e.CALLBACK_MAX_PER_IP_PER_MINUTE,
      ussdMaxHopsPerPhonePerMinute: e.USSD_MAX_HOPS_PER_PHONE_PER_MINUTE,
      smsMaxPerPhonePerMinute: e.SMS_MAX_PER_PHONE_PER_MINUTE,
    },
    secrets: {
      phoneHashKey: e.PHONE_HASH_KEY,
      phoneEncryptionKeys: e.PHONE_ENCRYPTION_KEYS.split(',').map((pair) => {
        const [id = '', key = ''] = pair.split(':');
        return { id, key };
      }),
    },
    staff: {
      sessionTtlSeconds: e.STAFF_SESSION_TTL_SECONDS,
      loginLimits: {
        perAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        perIp: e.LOGIN_MAX_FAILURES_PER_IP,
        perAccountNewDevices: e.LOGIN_MAX_FAILURES_PER_ACCOUNT_NEW_DEVICES,
        windowSeconds: e.LOGIN_THROTTLE_WINDOW_SECONDS,
        firstDelaySeconds: e.LOGIN_FIRST_DELAY_SECONDS,
      },
    },
    hotline: {
      joinWindowHours: e.HOTLINE_JOIN_WINDOW_HOURS,
      retentionDays: e.HOTLINE_RETENTION_DAYS,
      alertsPerHour: e.HOTLINE_ALERTS_PER_HOUR,
    },
    dataDir: e.DATA_DIR,
    embeddedMongodbPort: e.EMBEDDED_MONGODB_PORT,
  });
}

/** The one place in src/ that reads process.env. */
export function readEnvironment(): Environment {
  return { ...process.env };
}
