import type { Logger } from '../platform/logger';
import type { SingleSmsJob } from '../sms/sms-queue';
import type { Texts } from '../texts/texts';
import { ALERTED_URGENCIES, dueTime, isOpen, moreUrgent, urgencyRank } from './callback-policy';
import type { DutyRota, DutyShift } from './duty-rota';
import type { CallbackRequest, HotlineStore } from './hotline-store';
import type { WithLock } from '../platform/redis-lock';
import type { AlertBudget } from './alert-budget';

export interface CallbackRequestInput {
  reference: string;
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
  joinWindowHours: number;
  now(): Date;
  logger: Logger;
}

/**
 * A caller asked to be called back. If the same number has an open request from the last
 * HOTLINE_JOIN_WINDOW_HOURS, this one joins it: one person, one queue entry. Urgent requests alert
 * the agents on duty; the caller gets a neutral SMS only if they asked for one. Safe to replay.
 */
export async function recordCallbackRequest(deps: IntakeDeps, input: CallbackRequestInput, at: Date): Promise<{ queuedAs: string; joined: boolean }> {
  const { queuedAs, joined } = await deps.withLock(`phone:${input.phoneHash}`, async () => {
    const pointer = await deps.store.openPointer(input.phoneHash);
    if (pointer && pointer.reference !== input.reference && at.getTime() - pointer.at.getTime() < deps.joinWindowHours * 3_600_000) {
      const open = await deps.store.findCallbackRequest(pointer.reference);
      if (open && isOpen(open.status)) {
        await joinOpenRequest(deps, open, input, at);
        return { queuedAs: open._id, joined: true };
      }
    }
    await deps.store.setOpenPointer(input.phoneHash, input.reference, at);
    await deps.store.insertRequest(newRequest(input, at, deps.now()));
    return { queuedAs: input.reference, joined: false };
  });

  const request = await deps.store.findCallbackRequest(queuedAs);
  if (request && ALERTED_URGENCIES.has(request.urgency) && !request.alertedAt) await alertAgentsOnDuty(deps, request);
  if (input.confirmBySms && request && !request.confirmed.includes(input.reference)) {
    await deps.queueSms(`hotline-confirm:${input.reference}`, {
      toSealed: input.phoneSealed,
      text: deps.texts.t(input.language || deps.texts.defaultLanguage, 'sms.callback_confirmation', { ref: input.reference }),
      purpose: 'hotline.confirmation',
      reference: input.reference,
    });
    await deps.withLock(`request:${queuedAs}`, () => deps.store.updateRequest(queuedAs, { updatedAt: deps.now() }, { confirmed: input.reference }));
  }
  deps.logger.info({ reference: input.reference, queuedAs, joined, urgency: input.urgency }, joined ? 'callback request joined an open one' : 'callback request queued');
  return { queuedAs, joined };
}

function newRequest(input: CallbackRequestInput, at: Date, now: Date): Omit<CallbackRequest, 'day'> {
  return {
    _id: input.reference,
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
    if (current.joined.some((entry) => entry.reference === input.reference)) return;
    const urgency = moreUrgent(current.urgency, input.urgency);
    const due = dueTime(current.window, urgency, at);
    await deps.store.updateRequest(
      open._id,
      { urgency, urgencyRank: urgencyRank(urgency), dueAt: due < current.dueAt ? due : current.dueAt, region: current.region || input.region, updatedAt: deps.now() },
      { joined: { reference: input.reference, at, channel: input.channel } },
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
    deps.logger.warn({ reference: request._id, shift: shift._id, perHour: deps.alertBudget.perHour }, 'urgent alerts capped for an agent this hour');
  }
  const purpose = decision === 'summary' ? 'hotline.alert_summary' : 'hotline.alert';
  try {
    await deps.queueSms(`hotline-alert:${request._id}:${shift._id}`, { toSealed: shift.phoneSealed, text, purpose, reference: request._id });
  } catch (err) {
    await deps.alertBudget.release(shift._id, request._id).catch(() => undefined);
    throw err;
  }
}
