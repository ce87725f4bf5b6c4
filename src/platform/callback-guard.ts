import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type Redis from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import proxyaddr from 'proxy-addr';
import type { Config } from '../config/config';
import { withTimeout } from './with-timeout';

/** One fixed-window counter: its Redis key and how many requests a window allows. */
export interface RateCounter {
  readonly key: string;
  readonly max: number;
}

/** Every callback limit counts per minute. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Lua that counts one request against the counters KEYS[1..n] (n = ARGV[1], window ARGV[2] ms,
 * limits ARGV[3..n+2]) and leaves in `wait` the milliseconds until the latest window over its
 * limit ends (0: under every limit). The first request of a window gives its key the window as
 * lifetime, so no counter outlives a minute. Scripts that do more (the USSD session read, the
 * delivery-report inbox) start with it and find their own keys and arguments after these.
 */
export const COUNT_HITS_LUA = `
local counters = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for i = 1, counters do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('PEXPIRE', KEYS[i], window) end
  if count > tonumber(ARGV[i + 2]) then
    local left = redis.call('PTTL', KEYS[i])
    if left < 0 then
      redis.call('PEXPIRE', KEYS[i], window)
      left = window
    end
    if left > wait then wait = left end
  end
end
`;

/** The KEYS and ARGV that COUNT_HITS_LUA reads first; a script appends its own after them. */
export function hitArguments(counters: readonly RateCounter[]): { keys: string[]; args: Array<string | number> } {
  const keys = counters.map((counter) => counter.key);
  return { keys, args: [counters.length, RATE_WINDOW_MS, ...counters.map((counter) => counter.max)] };
}

/** Express's reading of TRUST_PROXY, so that a route served before Express sees the same client address. */
function compileTrust(trust: Config['http']['trustProxy']): (address: string, hop: number) => boolean {
  if (trust === true) return () => true;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  if (trust === false) return () => false;
  return proxyaddr.compile(trust.split(',').map((entry) => entry.trim()));
}

/**
 * The part of an address a limit counts by: an IPv4 address, or the /64 of an IPv6 one (a single
 * host is usually given a whole /64, so counting by address would give one attacker 2^64 allowances).
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export type RefusalReason = 'address-not-allowed' | 'rate-limited' | 'phone-mismatch';

/**
 * The gate in front of Africa's Talking's callbacks. AT signs nothing, so a leaked token would let
 * anyone drive them: the optional allow-list of the gateway's addresses (CALLBACK_ALLOWED_IPS)
 * refuses other senders before anything is read, and per-phone and per-address counts bound what
 * even a sender with the token can make safeline do. With an allow-list, addresses are not counted
 * (a gateway sends everything from a few of them, and only they get in); phones still are.
 */
export function createCallbackGuard(deps: { config: Config; redis: Redis; registry: Registry }) {
  const { config } = deps;
  const trust = compileTrust(config.http.trustProxy);
  const allowList = config.callbacks.allowedIps.length ? proxyaddr.compile([...config.callbacks.allowedIps]) : undefined;
  // A gateway calls from a few addresses: remember the answers rather than parse each hop's address.
  const decided = new Map<string, boolean>();
  const allowed = (address: string): boolean => {
    if (!allowList) return true;
    let verdict = decided.get(address);
    if (verdict === undefined) {
      verdict = allowList(address, 0);
      if (decided.size >= 10_000) decided.clear();
      decided.set(address, verdict);
    }
    return verdict;
  };
  const refusals = refusalCounter(deps.registry);
  const key = (route: string, kind: 'ip' | 'phone', id: string): string => `${config.queuePrefix}:callback-rate:${route}:${kind}:${id}`;

  return {
    /** The sender's address, believing X-Forwarded-For only from the proxies TRUST_PROXY names. */
    sourceOf: (req: IncomingMessage): string => proxyaddr(req, trust),
    /** False: the address is not on CALLBACK_ALLOWED_IPS (answer 403 and read nothing). */
    allows: allowed,
    /**
     * The counters one request counts against: its phone (by keyed hash, never the number) with
     * that route's limit, and its sender's address unless allow-listed. A limit of 0 is off.
     */
    counters(route: string, address: string, phone?: { readonly hash: string; readonly max: number }): RateCounter[] {
      const counters: RateCounter[] = [];
      if (phone && phone.max > 0) counters.push({ key: key(route, 'phone', phone.hash), max: phone.max });
      const perIp = config.callbacks.maxPerIpPerMinute;
      if (perIp > 0 && !allowList) counters.push({ key: key(route, 'ip', addressBucket(address)), max: perIp });
      return counters;
    },
    /**
     * Counts one request (one round trip); the seconds to wait when it is over a limit, 0 to go
     * ahead. Without Redis nothing can be counted: the request goes ahead rather than fail.
     */
    async hit(counters: readonly RateCounter[]): Promise<number> {
      if (!counters.length) return 0;
      const { keys, args } = hitArguments(counters);
      const count = deps.redis.eval(`${COUNT_HITS_LUA}\nreturn wait`, keys.length, ...keys, ...args) as Promise<number>;
      const waitMs = await withTimeout(count, 1_000, 'callback rate').catch(() => 0);
      return waitMs > 0 ? Math.ceil(waitMs / 1_000) : 0;
    },
    refused(route: string, reason: RefusalReason): void {
      refusals.inc({ route, reason });
    },
  };
}

export type CallbackGuard = ReturnType<typeof createCallbackGuard>;

/** One counter per process registry, whichever room asks first (the USSD and SMS rooms both refuse). */
function refusalCounter(registry: Registry): Counter<'route' | 'reason'> {
  const name = 'safeline_callbacks_refused_total';
  const existing = registry.getSingleMetric(name) as Counter<'route' | 'reason'> | undefined;
  const help = 'Gateway callbacks refused, by route and reason (address not allowed, rate limited, phone mismatch)';
  return existing ?? new Counter({ name, help, labelNames: ['route', 'reason'] as const, registers: [registry] });
}
