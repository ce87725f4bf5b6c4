import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** Where SMS to a range of numbers leave: an operator's bind (Kannel smsc) or a gateway account, at its own pace and price. */
export interface SmsRoute {
  readonly name: string;
  /** The operator, as the preview names it. */
  readonly operator: string;
  /** E.164 starts ("+2237"); the longest that matches a number wins. */
  readonly prefixes: readonly string[];
  readonly gateway: SmsRouteGateway;
  /** The Kannel smsc-id its messages leave over (kannel routes only). */
  readonly smsc?: string;
  readonly maxPerSecond: number;
  /** XOF per SMS part. */
  readonly pricePerPart: number;
  readonly senderId?: string;
}

export const ROUTE_GATEWAYS = ['kannel', 'africastalking', 'emulator'] as const;
export type SmsRouteGateway = (typeof ROUTE_GATEWAYS)[number];

/** Whether any route sends over this kind of gateway (its callbacks and pages are mounted then). */
export const routesUse = (routes: readonly SmsRoute[], kind: SmsRouteGateway): boolean => routes.some((route) => route.gateway === kind);

/**
 * Subscribers are counted per number block, the first characters of their E.164 number ("+22370"): enough
 * to tell the operator, too few to tell the person. A route prefix longer than a block would split one.
 */
export const NUMBER_BLOCK_LENGTH = 6;

const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const SMSC = /^[A-Za-z0-9_.-]{1,40}$/;
const SENDER = /^([A-Za-z0-9]{1,11}|\d{1,15})$/;
const FIELDS = ['name', 'operator', 'prefixes', 'gateway', 'smsc', 'max_per_second', 'price_per_part', 'sender_id'];

const ordinal = (i: number): string => `route ${i + 1}`;
/** A YAML value as text: an id may be written as a number (sender_id: 321). */
const scalar = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value));

/** Pure: the routes a file's text describes, or every problem found (each naming its route and field). */
export function parseRoutes(text: string): { routes: SmsRoute[]; problems: string[] } {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { routes: [], problems: [`not valid YAML (${(err as Error).message.split('\n')[0] ?? ''})`] };
  }
  const list = (doc as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(list) || list.length === 0) return { routes: [], problems: ['must have "routes:", a list of at least one route'] };
  const routes: SmsRoute[] = [];
  const prefixOwner = new Map<string, string>();
  const smscOwner = new Map<string, string>();
  const names = new Set<string>();
  list.forEach((raw: unknown, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      return void problems.push(`${ordinal(i)}: must be a mapping of name, operator, prefixes, gateway...`);
    }
    const r = raw as Record<string, unknown>;
    const name = typeof r.name === 'string' ? r.name : '';
    const who = NAME.test(name) ? `route "${name}"` : ordinal(i);
    const bad = (message: string) => problems.push(`${who}: ${message}`);
    for (const key of Object.keys(r)) if (!FIELDS.includes(key)) bad(`unknown field "${key}" (fields: ${FIELDS.join(', ')})`);
    if (!NAME.test(name)) bad('name must be lower-case letters, digits, "_" or "-" (at most 40)');
    else if (names.has(name)) bad('name is used by another route');
    names.add(name);
    const operator = typeof r.operator === 'string' ? r.operator.trim() : '';
    if (!operator || operator.length > 60) bad('operator must be a name of 1 to 60 characters');
    const gateway = r.gateway as SmsRouteGateway;
    if (!ROUTE_GATEWAYS.includes(gateway)) bad(`unknown gateway "${String(r.gateway)}" (one of ${ROUTE_GATEWAYS.join(', ')})`);
    const smsc = r.smsc === undefined ? undefined : scalar(r.smsc);
    if (gateway === 'kannel' && smsc === undefined) bad('a kannel route needs smsc, the Kannel smsc-id of the operator\'s bind');
    if (smsc !== undefined && gateway !== 'kannel') bad('smsc is only for kannel routes');
    if (smsc !== undefined && !SMSC.test(smsc)) bad('smsc must be letters, digits, "_", "." or "-"');
    if (smsc !== undefined && gateway === 'kannel') {
      const owner = smscOwner.get(smsc);
      // One bind, one ceiling: two routes over the same smsc would each be paced as if alone.
      if (owner) bad(`smsc "${smsc}" is already route "${owner}"'s: give that route both prefixes`);
      else smscOwner.set(smsc, name);
    }
    const prefixes = Array.isArray(r.prefixes) ? r.prefixes.map(scalar) : [];
    if (prefixes.length === 0) bad('prefixes must be a list of at least one E.164 start, e.g. ["+2237"]');
    for (const prefix of prefixes) {
      if (!/^\+\d{1,15}$/.test(prefix)) bad(`prefix "${prefix}" must be "+" and digits, e.g. "+2237"`);
      else if (prefix.length > NUMBER_BLOCK_LENGTH) {
        bad(
          `prefix "${prefix}" is longer than ${NUMBER_BLOCK_LENGTH} characters: subscribers are counted by the first ` +
            `${NUMBER_BLOCK_LENGTH} characters of their number, so a route cannot be narrower`,
        );
      } else {
        const owner = prefixOwner.get(prefix);
        if (owner !== undefined) bad(`prefix "${prefix}" is also ${owner === name ? 'listed twice in this route' : `route "${owner}"'s`}`);
        else prefixOwner.set(prefix, name);
      }
    }
    const maxPerSecond = Number(r.max_per_second);
    if (typeof r.max_per_second !== 'number' || !(maxPerSecond > 0)) {
      bad('max_per_second must be a number above 0 (the operator\'s ceiling, messages per second)');
    }
    const pricePerPart = Number(r.price_per_part);
    if (typeof r.price_per_part !== 'number' || !(pricePerPart > 0)) bad('price_per_part must be a number above 0 (XOF per SMS part)');
    const senderId = r.sender_id === undefined ? undefined : scalar(r.sender_id);
    if (senderId !== undefined && !SENDER.test(senderId)) bad('sender_id must be at most 11 letters and digits, or a short code (digits)');
    routes.push({
      name, operator, prefixes, gateway, ...(smsc !== undefined ? { smsc } : {}),
      maxPerSecond, pricePerPart, ...(senderId !== undefined ? { senderId } : {}),
    });
  });
  return { routes: problems.length ? [] : routes, problems };
}

/** The routes file at `path`, or the problems (a file that cannot be read is one). */
export function readRoutesFile(path: string): { routes: SmsRoute[]; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { routes: [], problems: [`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  return parseRoutes(text);
}
