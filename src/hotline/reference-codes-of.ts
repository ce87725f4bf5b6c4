import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { createReferenceCodes, type ReferenceCodeSource } from './reference-codes';

/** Builds a process's reference code source (tests pass one that forces a collision). */
export type ReferenceCodesFactory = (infra: Infrastructure) => ReferenceCodeSource;

const built = new WeakMap<Infrastructure, ReferenceCodeSource>();

/** One source per process: its block of the sequence is shared by the USSD hops, SMS and the worker. */
export const referenceCodesOf: ReferenceCodesFactory = (infra) => {
  const existing = built.get(infra);
  if (existing) return existing;
  const codes = createReferenceCodes({
    // Fails fast while Redis is away: a hop then takes a random code rather than waiting.
    redis: infra.redis.open('reference-codes', { enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
    connection: infra.mongo.connection,
    prefix: infra.config.queuePrefix,
    // Keyed from PHONE_HASH_KEY, so that one code does not tell the next (that key is never rotated).
    permutationKey: createPhoneProtection(infra.config.secrets).hash('reference-code-permutation'),
    logger: infra.logger,
  });
  built.set(infra, codes);
  return codes;
};
