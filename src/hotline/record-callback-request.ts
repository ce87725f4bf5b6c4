import type { Logger } from '../platform/logger';
import type { SingleSmsJob } from '../gateway/sms-queue';
import type { Texts } from '../texts/texts';
import { ALERTED_URGENCIES, dueTime, isOpen, moreUrgent, urgencyRank } from './callback-policy';
import type { DutyRota, DutyShift } from './duty-rota';
import type { CallbackRequest, HotlineStore } from './hotline-store';
import { insertUnderFreeCode } from './reference-codes';
import type { WithLock } from '../platform/redis-lock';
import type { AlertBudget } from './alert-budget';

export interface CallbackRequestInput {
  /** The code the caller was told (or will be: see the result's `reference`). */
  reference: string;
  /** What made the request (a flow event's id, an SMS id): a replay of it is recognised by this, not by the code. */
  eventKey: string;
  phoneHash: string;
  phoneSealed: string;
  language: string;
  window: string;
  topic: string;
  urgency: string;
  region: string;
  confirmBySms: boolean;
  channel: 'ussd' | 'sms';
}

export interface IntakeDeps {
  store: HotlineStore;
  rota: DutyRota;
  withLock: WithLock;
  /** At most HOTLINE_ALERTS_PER_HOUR alerts per agent, each request once. */
  alertBudget: AlertBudget;
  queueSms(jobId: string, job: SingleSmsJob): Promise<void>;
  texts: Texts;
  /** A code for a retry when the told one is already another record's. */
  freshCode(): Promise<string>;
  joinWindowHours: number;
  now(): Date;
  logger: Logger;
}

export interface RecordedRequest {
  /** The request in the queue (the open one this joined, or its own). */
  queuedAs: string;
  joined: boolean;
  /** The caller's own code as stored: the one to tell them. */
  reference: string;
}

/** The phone's open request within the join window: only ever one of that same phone. */
async function openRequestOf(deps: IntakeDeps, phoneHash: string, at: Date): Promise<CallbackRequest | undefined> {
  const pointer = await deps.store.openPointer(phoneHash);
  if (!pointer || at.getTime() - pointer.at.getTime() >= deps.joinWindowHours * 3_600_000) return undefined;
  const open = await deps.store.findCallbackRequest(pointer.reference);
  return open && open.phoneHash === phoneHash && isOpen(open.status) ? open : undefined;
}

/** Stores the request, or joins it to the phone's open one; once per event key, whatever the code. */
async function enqueue(deps: IntakeDeps, input: CallbackRequestInput, at: Date): Promise<RecordedRequest> {
  const claim = await deps.store.claimEvent(input.eventKey, input.reference, at);
  if (claim.replay) {
    const known = await deps.store.findByAnyReference(claim.reference);
    if (known && known.phoneHash === input.phoneHash) {
      // A replayed hop showed a newer code: it finds the same request, unless it is another's.
      const newer = input.reference !== claim.reference;
      if (newer && !(await deps.store.requestCodeInUse(input.reference))) await deps.store.addRequestAlias(known._id, input.reference);
      return { queuedAs: known._id, joined: known._id !== claim.reference, reference: claim.reference };
    }
    // Claimed, then stopped before it was stored (a crash): store it now.
  }
  const open = await openRequestOf(deps, input.phoneHash, at);
  if (open && open._id !== claim.reference) {
    const reference = (await deps.store.requestCodeInUse(claim.reference)) ? await deps.freshCode() : claim.reference;
    if (reference !== claim.reference) await deps.store.moveClaim(input.eventKey, reference);
    await joinOpenRequest(deps, open, { ...input, reference }, at);
    return { queuedAs: open._id, joined: true, reference };
  }
  const first = claim.reference;
  const insert = (code: string) => deps.store.insertRequest(newRequest({ ...input, reference: code }, first, at, deps.now()));
  const stored = await insertUnderFreeCode(first, insert, () => deps.freshCode());
  if (stored !== first) {
    await deps.store.moveClaim(input.eventKey, stored);
    deps.logger.error({ told: first, stored }, 'reference code already taken: the callback request is stored under a fresh one');
  }
  await deps.store.setOpenPointer(input.phoneHash, stored, at);
  return { queuedAs: stored, joined: false, reference: stored };
}

/**
 * A caller asked to be called back. If the same number has an open request from the last
 * HOTLINE_JOIN_WINDOW_HOURS, this one joins it: one person, one queue entry. Urgent requests alert
 * the agents on duty; the caller gets a neutral SMS only if they asked for one. Safe to replay.
 * Insert-only: a request is never merged into another phone's, nor dropped for a code already taken.
 */
export async function recordCallbackRequest(deps: IntakeDeps, input: CallbackRequestInput, at: Date): Promise<RecordedRequest> {
  const recorded = await deps.withLock(`phone:${input.phoneHash}`, () => enqueue(deps, input, at));
  const { queuedAs, joined, reference } = recorded;

  const request = await deps.store.findCallbackRequest(queuedAs);
  if (request && ALERTED_URGENCIES.has(request.urgency) && !request.alertedAt) await alertAgentsOnDuty(deps, request);
  if (input.confirmBySms && request && !request.confirmed.includes(reference)) {
    await deps.queueSms(`hotline-confirm:${reference}`, {
      toSealed: input.phoneSealed,
      text: deps.texts.t(input.language || deps.texts.defaultLanguage, 'sms.callback_confirmation', { ref: reference }),
      purpose: 'hotline.confirmation',
      reference,
    });
    await deps.withLock(`request:${queuedAs}`, () =>
      deps.store.updateRequest(queuedAs, { updatedAt: deps.now() }, { confirmed: reference }),
    );
  }
  deps.logger.info(
    { reference, queuedAs, joined, urgency: input.urgency },
    joined ? 'callback request joined an open one' : 'callback request queued',
  );
  return recorded;
}

function newRequest(input: CallbackRequestInput, told: string, at: Date, now: Date): Omit<CallbackRequest, 'day'> {
  return {
    _id: input.reference,
    eventKey: input.eventKey,
    ...(input.reference !== told ? { toldReference: told } : {}),
    phoneHash: input.phoneHash,
    phoneSealed: input.phoneSealed,
    language: input.language,
    window: input.window,
    topic: input.topic,
    urgency: input.urgency,
    urgencyRank: urgencyRank(input.urgency),
    region: input.region,
    confirmBySms: input.confirmBySms,
    channel: input.channel,
    status: 'new',
    createdAt: at,
    queuedAt: now,
    dueAt: dueTime(input.window, input.urgency, at),
    joined: [],
    claimedBy: null,
    claimedByName: null,
    claimedAt: null,
    attempts: [],
    firstAttemptAt: null,
    closedAt: null,
    closedBy: null,
    outcome: null,
    closingNote: '',
    alertedAt: null,
    confirmed: [],
    updatedAt: now,
    purgedAt: null,
  };
}

/** The later request adds its code; it can only raise the urgency and bring the due time closer. */
async function joinOpenRequest(deps: IntakeDeps, open: CallbackRequest, input: CallbackRequestInput, at: Date): Promise<void> {
  await deps.withLock(`request:${open._id}`, async () => {
    const current = (await deps.store.findCallbackRequest(open._id)) ?? open;
    if (current.joined.some((entry) => entry.reference === input.reference || entry.eventKey === input.eventKey)) return;
    const urgency = moreUrgent(current.urgency, input.urgency);
    const due = dueTime(current.window, urgency, at);
    await deps.store.updateRequest(
      open._id,
      {
        urgency,
        urgencyRank: urgencyRank(urgency),
        dueAt: due < current.dueAt ? due : current.dueAt,
        region: current.region || input.region,
        updatedAt: deps.now(),
      },
      { joined: { reference: input.reference, eventKey: input.eventKey, at, channel: input.channel } },
    );
  });
}

/** An SMS to each agent on duty: the reference, urgency and region, never the caller's number. */
async function alertAgentsOnDuty(deps: IntakeDeps, request: CallbackRequest): Promise<void> {
  const shifts = await deps.rota.onDutyAt(deps.now());
  for (const shift of shifts) await alertOneAgent(deps, shift, request);
  await deps.withLock(`request:${request._id}`, () => deps.store.updateRequest(request._id, { alertedAt: deps.now() }));
  if (shifts.length === 0) deps.logger.warn({ reference: request._id }, 'urgent callback request and no agent on duty to alert');
}

/**
 * One agent's alert, within their hourly budget: past it, one summary pointing at the queue, then
 * nothing until the hour has room again. The queue shows every request either way.
 */
async function alertOneAgent(deps: IntakeDeps, shift: DutyShift, request: CallbackRequest): Promise<void> {
  const decision = await deps.alertBudget.decide(shift._id, request._id, deps.now());
  if (decision === 'duplicate' || decision === 'capped') return;
  const language = deps.texts.has(shift.language, 'sms.agent_alert') ? shift.language : deps.texts.defaultLanguage;
  const text =
    decision === 'summary'
      ? deps.texts.t(language, 'sms.agent_alert_summary', { count: String(deps.alertBudget.perHour) })
      : deps.texts.t(language, 'sms.agent_alert', {
          ref: request._id,
          urgency: deps.texts.t(language, `console.hotline.urgency.${request.urgency}`),
          region: request.region || '-',
        });
  if (decision === 'summary') {
    deps.logger.warn(
      { reference: request._id, shift: shift._id, perHour: deps.alertBudget.perHour },
      'urgent alerts capped for an agent this hour',
    );
  }
  const purpose = decision === 'summary' ? 'hotline.alert_summary' : 'hotline.alert';
  try {
    await deps.queueSms(`hotline-alert:${request._id}:${shift._id}`, {
      toSealed: shift.phoneSealed,
      text,
      purpose,
      reference: request._id,
    });
  } catch (err) {
    await deps.alertBudget.release(shift._id, request._id).catch(() => undefined);
    throw err;
  }
}
