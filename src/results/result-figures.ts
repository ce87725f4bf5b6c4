import type { ResultQuestion } from '../flow-engine/questions';
import type { Logger } from '../platform/logger';
import { UNKNOWN, type CountedProfile, type KeptAnswer } from './contribution';
import type { RespondentProfiles } from './respondent-profiles';
import type { PendingCount, PendingCounts } from './pending-counts';
import type { ResultCounts } from './result-counts';
import type { ResultAnswer, ResultsStore } from './results-store';

/** Enough of a call's keyed hash to tell a respondent's calls apart. */
const SITTING_CHARS = 16;

const sameProfile = (a: CountedProfile, b: CountedProfile): boolean =>
  a.region === b.region && a.age_band === b.age_band && a.sex === b.sex;

/** Keeps the questions' counts in step with the answers and the profiles as the worker writes them. */
export function createResultFigures(deps: { counts: ResultCounts; profiles: RespondentProfiles; questions: readonly ResultQuestion[] }) {
  const profileOf = async (respondent: string): Promise<CountedProfile> => {
    const profile = await deps.profiles.find(respondent);
    return { region: profile?.region ?? UNKNOWN, age_band: profile?.age_band ?? UNKNOWN, sex: profile?.sex ?? UNKNOWN };
  };
  return {
    /** An answer stored (or found already stored): idempotent, and the later answer of a call wins, as in `results`. */
    async noteAnswer(answer: ResultAnswer, at: Date): Promise<void> {
      const sitting = answer.sitting.slice(0, SITTING_CHARS);
      await deps.counts.change(answer, answer.respondent, async (current) => {
        const profile = await profileOf(answer.respondent);
        const earlier = current?.answers ?? [];
        const same = earlier.find((kept) => kept.sitting === sitting);
        if (same && same.at.getTime() >= at.getTime()) {
          return current && sameProfile(current.profile, profile) ? undefined : { answers: earlier, profile };
        }
        const kept: KeptAnswer = {
          sitting, at, category: answer.category, language: answer.language,
          ...(answer.correct === undefined ? {} : { correct: answer.correct }),
        };
        const answers = [...earlier.filter((other) => other.sitting !== sitting), kept].sort((a, b) => a.at.getTime() - b.at.getTime());
        return { answers, profile };
      });
    },
    /** A profile field answered: the respondent's counts move to their new region, age band or sex. */
    async noteProfile(respondent: string): Promise<void> {
      for (const question of deps.questions) {
        await deps.counts.change(question, respondent, async (current) => {
          if (!current) return undefined;
          const profile = await profileOf(respondent);
          return sameProfile(current.profile, profile) ? undefined : { answers: current.answers, profile };
        });
      }
    },
  };
}

export type ResultFigures = ReturnType<typeof createResultFigures>;

/**
 * The stores the USSD worker writes answers and profiles through, with the counts kept in step after each write
 * (a retried job counts again, which changes nothing). While Redis is down (a hop then writes its events directly)
 * no count is tried, and a count that fails (a lock held too long) is not retried with the job: both are left to
 * the worker's pass over `pending`. The answer is stored either way.
 */
export function countedStores(
  stores: { results: ResultsStore; profiles: RespondentProfiles },
  figures: ResultFigures,
  pending: PendingCounts,
  redisReady: () => boolean,
  logger: Pick<Logger, 'warn'>,
) {
  const { results, profiles } = stores;
  const counted = async (count: () => Promise<void>, later: PendingCount): Promise<void> => {
    try {
      if (!redisReady()) throw new Error('redis is not ready');
      await count();
    } catch (err) {
      logger.warn({ err, kind: later.kind }, 'result count left for the worker\'s next pass');
      await pending.add(later);
    }
  };
  const countedResults: ResultsStore = {
    ...results,
    async record(answer, at) {
      const outcome = await results.record(answer, at);
      if (outcome === 'refused') return outcome;
      await counted(() => figures.noteAnswer(answer, at), { _id: `answer:${answer.eventId}`, kind: 'answer', answer, at });
      return outcome;
    },
  };
  const countedProfiles: RespondentProfiles = {
    ...profiles,
    async answer(phoneHash, field, value, at) {
      const stored = await profiles.answer(phoneHash, field, value, at);
      if (!stored) return stored;
      await counted(() => figures.noteProfile(phoneHash), { _id: `profile:${phoneHash}`, kind: 'profile', respondent: phoneHash, at });
      return stored;
    },
  };
  return { results: countedResults, respondents: countedProfiles };
}

/** The worker's pass over counts left for later; returns how many were made. */
export async function countPending(figures: ResultFigures, pending: PendingCounts, limit = 500): Promise<number> {
  const waiting = await pending.next(limit);
  for (const count of waiting) {
    if (count.kind === 'answer') await figures.noteAnswer(count.answer, new Date(count.at));
    else await figures.noteProfile(count.respondent);
    await pending.done(count._id);
  }
  return waiting.length;
}
