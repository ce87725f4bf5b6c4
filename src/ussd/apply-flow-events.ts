import type { OptOutSet } from '../subscribers/optout-set';
import type { SubscriberStore } from '../subscribers/subscriber-store';
import type { FlowEvent } from '../flow-engine/types';
import type { HotlineIntake } from '../hotline/hotline-intake';
import type { Logger } from '../platform/logger';
import { CAPPED_BACKOFF, type JsonObject } from '../platform/queues';
import { withTimeout } from '../platform/with-timeout';
import type { CallerProfiles } from './caller-profiles';
import type { LanguageProfile } from './session-store';

export const FLOW_EVENTS_QUEUE = 'ussd-flow-events';

/** A flow event with who and when, as plain JSON for the queue. The number travels sealed only. */
export interface FlowEventJob extends JsonObject {
  /** Unique per event: the session, the hop (how many inputs it had) and the event's place in it. */
  eventId: string;
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
  /** The opted-out set campaign senders check; kept in step with each consent change. */
  optouts?: OptOutSet;
  /** Keeps the Redis language cache in step with MongoDB (the hop already wrote it; this covers its failures). */
  cacheProfile?: (phoneHash: string, profile: LanguageProfile) => Promise<void>;
}) {
  return async function applyFlowEvent(job: FlowEventJob): Promise<void> {
    const { event } = job;
    const at = new Date(job.at);
    switch (event.type) {
      case 'report.created':
        await stores.hotline.recordReport(
          { _id: str(event.reference), kind: str(event.kind), region: str(event.region), urgency: str(event.urgency), wantsCallback: event.wantsCallback === true, channel: 'ussd' },
          at,
        );
        return;
      case 'callback.requested':
        await stores.hotline.recordCallbackRequest(
          {
            reference: str(event.reference),
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
        return;
      case 'subscription.changed': {
        const changed = await stores.subscribers.recordTopicChoice(
          { phoneHash: job.phoneHash, phoneSealed: job.phoneSealed, language: str(event.language), topic: str(event.topic), subscribed: event.subscribed === true, source: 'ussd', evidence: `ussd session ${job.sessionId}` },
          at,
        );
        if (changed && event.subscribed !== true && event.topic === 'all') await stores.optouts?.add(job.phoneHash);
        if (changed && event.subscribed === true) await stores.optouts?.remove(job.phoneHash);
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

/** A hop's events as plain JSON jobs; `hop` is the number of inputs the hop's text holds. */
export function toFlowEventJobs(events: readonly FlowEvent[], who: { sessionId: string; phoneHash: string; phoneSealed: string }, hop: number, at: Date): FlowEventJob[] {
  return events.map((event, index) => {
    const anonymous = ANONYMOUS_EVENTS.has(event.type);
    return {
      eventId: `${who.sessionId}:${hop}:${index}`,
      sessionId: who.sessionId,
      phoneHash: anonymous ? '' : who.phoneHash,
      phoneSealed: anonymous ? '' : who.phoneSealed,
      at: at.toISOString(),
      event: JSON.parse(JSON.stringify(event)) as JsonObject,
    };
  });
}

/** Writes events directly, for when Redis cannot take them (the reply still carries its reference code). */
export async function applyDirectly(jobs: readonly FlowEventJob[], apply: ApplyFlowEvent, logger: Logger): Promise<void> {
  for (const job of jobs) {
    logger.warn({ event: job.event.type }, 'redis unavailable, writing the flow event directly');
    await withTimeout(apply(job), 2_000, 'apply flow event');
  }
}

// Done jobs leave Redis at once: their data is about residents. 600 capped attempts wait out
// about two days of MongoDB outage: a caller's confirmed request is never dropped for it.
export const FLOW_EVENT_JOB_OPTIONS = { attempts: 600, backoff: { type: CAPPED_BACKOFF }, removeOnComplete: true } as const;
