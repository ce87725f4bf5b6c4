import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Logger } from '../platform/logger';
import type { TypedQueue } from '../platform/queues';
import { sleep, withTimeout } from '../platform/with-timeout';
import { FLOW_EVENT_JOB_OPTIONS, flowEventJobId, type FlowEventJob } from './apply-flow-events';

const BATCH = 200;
const IDLE_MS = 100;
const ALIVE_MS = 15_000;

/** The Redis keys of the relay's hand-over (exported for the tests that kill a relay mid-way). */
export const outboxRelayKeys = (outboxKey: string) => ({
  /** What one relay has popped and not yet queued: put back in the outbox if that relay dies. */
  taken: (relay: string) => `${outboxKey}:taken:${relay}`,
  /** Present while that relay lives (refreshed by a timer, expires `aliveMs` after it dies). */
  alive: (relay: string) => `${outboxKey}:alive:${relay}`,
  relays: `${outboxKey}:relays`,
});

// Moves up to N events from the outbox to this relay's "taken" list in one step: a relay that dies
// before Bull has them leaves them there, and a live relay puts them back.
const TAKE = `
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
redis.call('RPUSH', KEYS[2], unpack(items))
return items`;
// A dead relay's "taken" list goes back to the head of the outbox, in order, unless it is alive.
const RECOVER = `
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #items, 1, -1 do redis.call('LPUSH', KEYS[2], items[i]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[1])
return #items`;

export interface OutboxRelayOptions {
  /** How long a relay counts as alive after its last heartbeat (default 15 s). */
  aliveMs?: number;
  /** How often to look for what dead relays had taken (default: aliveMs). */
  recoverEveryMs?: number;
}

/**
 * The hop saves its events in the same Redis transaction as its session (an outbox list), so a
 * reference code shown to a caller always has its event kept. This loop, in the worker, moves them
 * into Bull in batches. A batch is moved atomically from the outbox to this relay's own "taken" list,
 * so several workers never take the same items, and a relay that dies between the pop and the add
 * leaves them there: once its heartbeat has lapsed, another relay puts them back at the head of the
 * outbox. Queued twice (a relay died after Bull had them) is harmless: the job id is the event's.
 */
export function startOutboxRelay(
  redis: Redis,
  outboxKey: string,
  queue: TypedQueue<FlowEventJob>,
  logger: Logger,
  options: OutboxRelayOptions = {},
): { stop(): Promise<void> } {
  let running = true;
  const keys = outboxRelayKeys(outboxKey);
  const self = randomUUID();
  const taken = keys.taken(self);
  const aliveMs = options.aliveMs ?? ALIVE_MS;
  const heartbeat = () => redis.multi().set(keys.alive(self), '1', 'PX', aliveMs).sadd(keys.relays, self).exec().catch(() => undefined);
  const beating = setInterval(() => void heartbeat(), Math.max(1, Math.floor(aliveMs / 3)));

  async function recoverDead(): Promise<void> {
    let recovered = 0;
    for (const relay of await redis.smembers(keys.relays)) {
      if (relay === self) continue;
      const moved = (await redis.eval(RECOVER, 4, keys.taken(relay), outboxKey, keys.alive(relay), keys.relays, relay)) as number;
      if (moved > 0) recovered += moved;
    }
    if (recovered) logger.warn({ recovered }, 'ussd events taken by a relay that died are back in the outbox');
  }

  const loop = (async () => {
    await heartbeat();
    let recoveredAt = 0;
    while (running) {
      try {
        if (Date.now() - recoveredAt >= (options.recoverEveryMs ?? aliveMs)) {
          recoveredAt = Date.now();
          await withTimeout(recoverDead(), 5_000, 'outbox recovery');
        }
        // Bounded: while Redis is away the shared client would hold the command until it returns.
        const raw = (await withTimeout(redis.eval(TAKE, 2, outboxKey, taken, BATCH) as Promise<string[]>, 2_000, 'outbox take')) ?? [];
        if (raw.length === 0) {
          await sleep(IDLE_MS);
          continue;
        }
        const jobs = raw.flatMap((item) => {
          try {
            return [JSON.parse(item) as FlowEventJob];
          } catch {
            logger.error('unreadable item dropped from the ussd outbox');
            return [];
          }
        });
        try {
          await withTimeout(
            queue.addBulk(jobs.map((job) => ({ data: job, opts: { ...FLOW_EVENT_JOB_OPTIONS, jobId: flowEventJobId(job) } }))),
            5_000,
            'outbox relay',
          );
        } catch (err) {
          // Back to the head of the outbox; if even that fails, they stay taken and are recovered.
          await withTimeout(redis.multi().lpush(outboxKey, ...raw.reverse()).del(taken).exec(), 2_000, 'outbox give back').catch(() =>
            logger.error({ events: raw.length }, 'outbox batch left taken: Redis refused it back; recovered after a restart'),
          );
          throw err;
        }
        await withTimeout(redis.del(taken), 2_000, 'outbox taken done');
      } catch (err) {
        logger.warn({ err }, 'outbox relay paused');
        await sleep(1_000);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      clearInterval(beating);
      // A timer that outlives the loop would hold the process open after shutdown.
      await withTimeout(loop, 2_500, 'outbox relay stop').catch(() => undefined);
      // Gone cleanly: nothing of ours is left taken (a batch cut short by the timeout stays taken
      // and is recovered once our heartbeat has expired).
      const deregister = async () => {
        const left = await redis.llen(taken);
        await (left === 0 ? redis.multi().del(keys.alive(self)).srem(keys.relays, self) : redis.multi().del(keys.alive(self))).exec();
      };
      await withTimeout(deregister(), 1_000, 'outbox relay deregister').catch(() => undefined);
    },
  };
}
