import { randomInt } from 'node:crypto';
import type Redis from 'ioredis';
import { Schema, type Connection } from 'mongoose';
import type { Logger } from '../platform/logger';
import { modelOn } from '../platform/mongo';
import { withTimeout } from '../platform/with-timeout';
import { SEQUENCE_LIMIT, SPACE, createCodePermutation, type CodePermutation } from './reference-code-space';

/**
 * Where reference codes come from. `take` is synchronous, so the pure flow engine can take a code
 * through its context without I/O: `prepare` (awaited before a step) makes sure a few are in memory.
 */
export interface ReferenceCodeSource {
  prepare(): Promise<void>;
  take(): string;
  /** A code for a retry after a conflict (the stored-level check). */
  fresh(): Promise<string>;
}

const BLOCK = 50;
const LOW_WATER = 5;
/** A re-seed starts this far above the last recorded block: blocks still held by running processes stay below it. */
export const RESEED_GAP = 100_000;
const RETRY_AFTER_MS = 1_000;

// The sequence never restarts on its own: a missing key is answered -1, and the caller re-seeds it.
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('INCRBY', KEYS[1], ARGV[1])`;

interface HighWater {
  _id: string;
  next: number;
}

export const referenceSequenceKey = (prefix: string): string => `${prefix}:reference-codes:sequence`;

/**
 * Codes from a Redis sequence taken in blocks of 50 (one INCRBY per block, held in memory) and mapped
 * through the keyed permutation: unique by construction. Each block's end is also recorded in MongoDB
 * (in the background), so a lost sequence key is re-seeded above every code already given out.
 * When Redis cannot be reached, codes are drawn at random from the upper half of the space, which the
 * sequence never reaches: they cannot collide with sequence codes, and the insert check (retry on a
 * duplicate) covers the rare draw of the same one twice.
 */
export interface ReferenceCodeDeps {
  redis: Redis;
  connection: Connection;
  prefix: string;
  permutationKey: string;
  logger: Logger;
  timeoutMs?: number;
}

export function createReferenceCodes(deps: ReferenceCodeDeps): ReferenceCodeSource {
  const permutation: CodePermutation = createCodePermutation(deps.permutationKey);
  const key = referenceSequenceKey(deps.prefix);
  const timeoutMs = deps.timeoutMs ?? 250;
  const highWater = modelOn<HighWater>(deps.connection, 'ReferenceCodeHighWater', () =>
    new Schema<HighWater>({ _id: String, next: Number }, { collection: 'reference_code_sequence', versionKey: false }),
  );
  let next = 0;
  let end = 0;
  let failedAt = 0;
  let refilling: Promise<void> | undefined;

  async function reseed(): Promise<void> {
    const recorded = await withTimeout(highWater.findById(key).lean<HighWater>().exec(), 2_000, 'reference code high water');
    const start = (recorded?.next ?? 0) + (recorded ? RESEED_GAP : 0);
    // NX: of several processes re-seeding at once, one sets it and all continue from there.
    await deps.redis.set(key, String(start), 'NX');
    deps.logger.warn({ start }, 'reference code sequence was missing in Redis: re-seeded from MongoDB');
  }

  async function reserve(): Promise<void> {
    let reached = Number(await withTimeout(deps.redis.eval(RESERVE, 1, key, BLOCK) as Promise<number>, timeoutMs, 'reference codes'));
    if (reached < 0) {
      await reseed();
      reached = Number(await withTimeout(deps.redis.eval(RESERVE, 1, key, BLOCK) as Promise<number>, timeoutMs, 'reference codes'));
    }
    if (reached > SEQUENCE_LIMIT) throw new Error('the reference code sequence is exhausted');
    [next, end] = [reached - BLOCK, reached];
    record(reached);
  }

  // One write in flight per process, the highest block end last: the test server applies an update
  // as read-then-write, so concurrent $max writes could leave a lower value behind.
  let marked = 0;
  let recording: Promise<void> | undefined;
  function record(reached: number): void {
    marked = Math.max(marked, reached);
    recording ??= (async () => {
      let written = 0;
      while (written < marked) {
        const value = marked;
        await highWater.updateOne({ _id: key }, { $max: { next: value } }, { upsert: true }).exec();
        written = value;
      }
    })()
      .catch((err: unknown) => deps.logger.warn({ err }, 'reference code high water not recorded'))
      .finally(() => (recording = undefined));
  }

  const refill = (): Promise<void> =>
    (refilling ??= reserve()
      .catch((err: unknown) => {
        failedAt = Date.now();
        deps.logger.warn({ err }, 'reference code sequence out of reach: random codes from the reserved half meanwhile');
      })
      .finally(() => (refilling = undefined)));

  const random = (): string => permutation.codeOf(SEQUENCE_LIMIT + randomInt(SPACE - SEQUENCE_LIMIT));

  // While Redis is away, a hop does not wait on it each time.
  const outOfReach = (): boolean => Date.now() - failedAt < RETRY_AFTER_MS;
  const prepare = async (): Promise<void> => {
    if (end - next < LOW_WATER && !outOfReach()) await refill();
  };
  const take = (): string => {
    if (next < end) return permutation.codeOf(next++);
    if (!outOfReach()) void refill();
    return random();
  };
  const fresh = async (): Promise<string> => {
    await prepare();
    return take();
  };
  return { prepare, take, fresh };
}

const MAX_CODE_TRIES = 10;

/**
 * Stores a record under `first`, or under a fresh code when `first` is another record's: never
 * overwriting, never merging. Returns the code it is stored under ('ours': a replay found it stored).
 */
export async function insertUnderFreeCode(
  first: string,
  insert: (code: string) => Promise<'inserted' | 'ours' | 'taken'>,
  fresh: () => Promise<string>,
): Promise<string> {
  let code = first;
  for (let attempt = 0; attempt < MAX_CODE_TRIES; attempt += 1) {
    if ((await insert(code)) !== 'taken') return code;
    code = await fresh();
  }
  throw new Error(`no free reference code after ${MAX_CODE_TRIES} tries`);
}
