import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { describeText, maskPhone, maskPhonesIn as maskPhonesOnly, maskUrlCredentials } from '../shared/redact';

export type { Logger } from 'pino';

/** Keys whose value is a phone number, wherever they appear in a log object. */
const PHONE_KEYS = new Set(['phone', 'phonenumber', 'msisdn', 'to', 'from', 'callernumber', 'recipient', 'number']);
/** Keys whose value is text a resident typed or a message body. */
const TEXT_KEYS = new Set(['text', 'message', 'body', 'content', 'input', 'note', 'sms', 'usertext']);

const MAX_DEPTH = 6;

/** Phone numbers and the passwords of connection URLs (a driver's error may quote its URI). */
const maskPhonesIn = (text: string): string => maskPhonesOnly(maskUrlCredentials(text));

const ERROR_KEYS = new Set(['err', 'error']);

function sanitize(value: unknown, key: string | undefined, depth: number, inError = false): unknown {
  const lowerKey = key?.toLowerCase();
  if (typeof value === 'string') {
    // An error's own message is ours, not a resident's: keep it, with numbers masked.
    if (lowerKey && TEXT_KEYS.has(lowerKey) && !inError) return describeText(value);
    if (lowerKey && PHONE_KEYS.has(lowerKey)) return maskPhone(value);
    return maskPhonesIn(value);
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[depth limit]';
  if (value instanceof Error) {
    return { type: value.name, message: maskPhonesIn(value.message), stack: value.stack && maskPhonesIn(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => sanitize(item, key, depth + 1, inError));
  if (value instanceof Date) return value.toISOString();
  const nestedInError = inError || (lowerKey !== undefined && ERROR_KEYS.has(lowerKey));
  const out: Record<string, unknown> = {};
  for (const [innerKey, inner] of Object.entries(value)) out[innerKey] = sanitize(inner, innerKey, depth + 1, nestedInError);
  return out;
}

/**
 * A pino logger that never writes a phone number or a resident's words in clear:
 * known keys are masked or reduced to their length, and any phone-like run in any
 * other string, including the message itself, is masked.
 */
export function createLogger(options: { level: LoggerOptions['level']; name?: string }, destination?: DestinationStream): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    name: options.name ?? 'safeline',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => sanitize(object, undefined, 0) as Record<string, unknown>,
      bindings: (bindings) => sanitize(bindings, undefined, 0) as Record<string, unknown>,
    },
    serializers: { err: (err: unknown) => sanitize(err, 'err', 0) },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((arg) => (typeof arg === 'string' ? maskPhonesIn(arg) : arg)) as Parameters<typeof method>;
        method.apply(this, masked);
      },
    },
  };
  const logger = destination ? pino(loggerOptions, destination) : pino(loggerOptions);
  // pino skips the bindings formatter for children, yet logger.child({ phone }) would be written on
  // every line: sanitize child bindings here. Children inherit this method through their prototype.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound below with call(this)
  const protoChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return protoChild.call(this, sanitize(bindings, undefined, 0) as typeof bindings, childOptions);
  } as Logger['child'];
  return logger;
}
