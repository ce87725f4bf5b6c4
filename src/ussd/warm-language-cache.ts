import type { Logger } from '../platform/logger';
import type { CallerProfiles } from './caller-profiles';
import type { SessionStore } from './session-store';

export const MAINTENANCE_QUEUE = 'ussd-maintenance';
export const WARM_LANGUAGE_CACHE = 'warm-language-cache';

/**
 * Copies every remembered language from MongoDB into Redis, then marks the cache complete: from
 * then on a phone missing from the cache is known to be new, and a first hop never waits for
 * MongoDB. After Redis loses its data the mark is gone, hops ask MongoDB again, and the next run
 * of this job (every few minutes) fills the cache anew.
 */
export async function warmLanguageCache(profiles: CallerProfiles, sessions: SessionStore, logger: Logger): Promise<number> {
  if (await sessions.profilesComplete()) return 0;
  const started = Date.now();
  const count = await profiles.each(500, (batch) => sessions.fillProfiles(batch));
  await sessions.markProfilesComplete();
  logger.info({ profiles: count, ms: Date.now() - started }, 'language cache filled');
  return count;
}
