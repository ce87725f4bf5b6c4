import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import type { FlowEvent } from '../flow-engine/types';
import type { HotlineIntake } from '../hotline/hotline-intake';
import type { Logger } from '../platform/logger';
import { CAPPED_BACKOFF, type JsonObject } from '../platform/queues';
import { withTimeout } from '../platform/with-timeout';
import type { RespondentProfiles } from '../results/respondent-profiles';
import type { ResultsStore } from '../results/results-store';
import type { CallerProfiles } from './caller-profiles';
import type { LanguageProfile } from './session-store';

export const FLOW_EVENTS_QUEUE = 'ussd-flow-events';

/** A flow event with who and when, as plain JSON for the queue. The number travels sealed only. */
export interface FlowEventJob extends JsonObject {
  /**
   * Unique per event, the same when a hop is replayed: a keyed hash of the session, the hop (how many
   * inputs it had) and the event's place in it. Without the key it cannot be joined to the session.
   */
  eventId: string;
  /** AT's session id; empty for an anonymous event. */
  sessionId: string;
  phoneHash: string;
  phoneSealed: string;
  at: string;
  event: JsonObject;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Writes one event where it belongs; every write is idempotent, so retries and replays are safe. */
export function createFlowEventApplier(stores: {
  hotline: HotlineIntake;
  subscribers: SubscriberStore;
  profiles: CallerProfiles;
  /** Answers to flows' questions, and respondents' profiles, both by phone hash. */
  results: ResultsStore;
  respondents: RespondentProfiles;
  /** The opted-out set campaign senders check; kept in step with each consent change. */
  optouts?: OptOutSet;
  /** Keeps the Redis language cache in step with MongoDB (the hop already wrote it; this covers its failures). */
  cacheProfile?: (phoneHash: string, profile: LanguageProfile) => Promise<void>;
  /** The sealed number's block when an SMS route covers it, else undefined: nothing could reach it, so it is not subscribed. */
  blockOf?: (phoneSealed: string) => string | undefined;
  logger?: Pick<Logger, 'warn'>;
}) {
  /** Returns the reference code a report or callback request is stored under. */
  return async function applyFlowEvent(job: FlowEventJob): Promise<string | undefined> {
    const { event } = job;
    const at = new Date(job.at);
    switch (event.type) {
      case 'report.created':
        return stores.hotline.recordReport(
          {
            reference: str(event.reference),
            eventKey: job.eventId,
            kind: str(event.kind),
            region: str(event.region),
            urgency: str(event.urgency),
            wantsCallback: event.wantsCallback === true,
            channel: 'ussd',
          },
          at,
        );
      case 'callback.requested': {
        const recorded = await stores.hotline.recordCallbackRequest(
          {
            reference: str(event.reference),
            eventKey: job.eventId,
            phoneHash: job.phoneHash,
            phoneSealed: job.phoneSealed,
            language: str(event.language),
            window: str(event.window),
            topic: str(event.topic),
            urgency: str(event.urgency),
            region: str(event.region),
            confirmBySms: event.confirmBySms === true,
            channel: 'ussd',
          },
          at,
        );
        return recorded.reference;
      }
      case 'subscription.changed': {
        const numberBlock = event.subscribed === true && stores.blockOf ? stores.blockOf(job.phoneSealed) : undefined;
        if (event.subscribed === true && stores.blockOf && !numberBlock) {
          stores.logger?.warn({ event: event.type }, 'ussd subscription not recorded: no SMS route covers the number');
          return;
        }
        const changed = await stores.subscribers.recordTopicChoice(
          {
            phoneHash: job.phoneHash,
            phoneSealed: job.phoneSealed,
            ...(numberBlock ? { numberBlock } : {}),
            language: str(event.language),
            topic: str(event.topic),
            subscribed: event.subscribed === true,
            source: 'ussd',
            evidence: `ussd session ${job.sessionId}`,
          },
          at,
        );
        if (changed && event.subscribed !== true && event.topic === 'all') await stores.optouts?.add(job.phoneHash);
        if (changed && event.subscribed === true) await stores.optouts?.remove(job.phoneHash);
        return;
      }
      case 'result.recorded': {
        const correct = typeof event.correct === 'boolean' ? { correct: event.correct } : {};
        const answer = {
          respondent: job.phoneHash, sitting: str(event.sitting), flow: str(event.flow), node: str(event.node),
          result: str(event.result), category: str(event.category), language: str(event.language), eventId: job.eventId, ...correct,
        };
        const outcome = await stores.results.record(answer, at);
        if (outcome === 'refused') {
          stores.logger?.warn({ event: event.type, flow: answer.flow, node: answer.node }, 'malformed result not stored');
        }
        return;
      }
      case 'profile.answered':
      case 'profile.skipped': {
        if (event.type === 'profile.skipped') await stores.respondents.skip(job.phoneHash, at);
        else if (!(await stores.respondents.answer(job.phoneHash, str(event.field), str(event.category), at))) {
          stores.logger?.warn({ event: event.type, field: str(event.field) }, 'profile answer not stored: not a value the field takes');
          return;
        }
        const profile = await stores.profiles.markProfileAsked(job.phoneHash, job.sessionId, at);
        await stores.cacheProfile?.(job.phoneHash, profile).catch(() => undefined);
        return;
      }
      case 'language.chosen':
      {
        const profile = await stores.profiles.setLanguage(job.phoneHash, str(event.language), job.sessionId, at);
        // MongoDB holds the choice; a cache Redis cannot take now is refilled by the warm-up job.
        await stores.cacheProfile?.(job.phoneHash, profile).catch(() => undefined);
        return;
      }
      default:
        throw new Error(`no handler for flow event "${JSON.stringify(event.type)}"`);
    }
  };
}

export type ApplyFlowEvent = ReturnType<typeof createFlowEventApplier>;

/** The job id of one event: a resent or replayed hop, or a relay that runs twice, queues nothing twice. */
export const flowEventJobId = (job: FlowEventJob): string => job.eventId;

/** Events that must not travel with the caller's number: an anonymous report stays anonymous. */
const ANONYMOUS_EVENTS = new Set(['report.created']);

/** Who made a hop's events, and the keyed hash that turns (session, hop, place) into an event id. */
export interface EventOrigin {
  sessionId: string;
  phoneHash: string;
  phoneSealed: string;
  keyedHash(value: string): string;
}

/**
 * A hop's events as plain JSON jobs; `hop` is the number of inputs the hop's text holds. An anonymous
 * report's job carries neither the session id nor the phone: nothing in it, nor in its job id, links
 * it to the session notices or to a phone hash (the id is keyed).
 */
export function toFlowEventJobs(events: readonly FlowEvent[], who: EventOrigin, hop: number, at: Date): FlowEventJob[] {
  return events.map((event, index) => {
    const anonymous = ANONYMOUS_EVENTS.has(event.type);
    return {
      eventId: who.keyedHash(`flow-event:${who.sessionId}:${hop}:${index}`),
      sessionId: anonymous ? '' : who.sessionId,
      phoneHash: anonymous ? '' : who.phoneHash,
      phoneSealed: anonymous ? '' : who.phoneSealed,
      at: at.toISOString(),
      event: JSON.parse(JSON.stringify(event)) as JsonObject,
    };
  });
}

/**
 * Writes events directly, for when Redis cannot take them, before the caller sees a code. Returns
 * each told code that was stored under another (taken by another record, or a replay that found the
 * event stored), so the hop can show the stored one; a later event of the hop naming a changed code
 * (a report's callback) is written with the stored one.
 */
export async function applyDirectly(jobs: readonly FlowEventJob[], apply: ApplyFlowEvent, logger: Logger): Promise<Map<string, string>> {
  const changed = new Map<string, string>();
  for (const job of jobs) {
    logger.warn({ event: job.event.type }, 'redis unavailable, writing the flow event directly');
    const told = str(job.event.reference);
    const known = changed.get(told);
    const event = known ? { ...job.event, reference: known } : job.event;
    const stored = await withTimeout(apply({ ...job, event }), 2_000, 'apply flow event');
    if (told && stored && stored !== (known ?? told)) changed.set(told, stored);
  }
  return changed;
}

// Done jobs leave Redis at once: their data is about residents. 600 capped attempts wait out
// about two days of MongoDB outage: a caller's confirmed request is never dropped for it.
export const FLOW_EVENT_JOB_OPTIONS = { attempts: 600, backoff: { type: CAPPED_BACKOFF }, removeOnComplete: true } as const;
