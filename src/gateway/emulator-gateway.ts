import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import { maskPhone } from '../shared/redact';
import type { PhoneProtection } from '../shared/phone-protection';
import { analyzeText } from '../shared/sms-encoding';
import { CAMPAIGN_PURPOSES, type RecipientResult, type SmsGateway } from './sms-gateway';

/** A message the emulator "sent": what a newcomer sees arrive in the console instead of on a phone. */
export interface EmulatedMessage {
  _id: string; // the messageId it answered with
  toHash: string;
  toMasked: string;
  from: string;
  text: string;
  parts: number;
  /** What it was for (see OutgoingSms); absent on messages kept before it was recorded. */
  purpose?: string;
  at: Date;
}

export interface EmulatorOutbox {
  /** Newest first; only campaign messages when asked (hotline alerts and confirmations are for admins). */
  list(limit: number, options?: { campaignOnly?: boolean }): Promise<EmulatedMessage[]>;
  /** Messages sent to one number (by keyed hash), newest first. */
  sentTo(phoneHash: string): Promise<EmulatedMessage[]>;
}

/**
 * The default gateway of `npm run dev` and the tests: nothing leaves the machine. It answers like
 * Africa's Talking (status 101 "Success", a messageId, a cost per part) and keeps what it sent.
 */
export interface EmulatorReports {
  /** Where to POST AT-style delivery reports (…/sms/delivery?token=…); undefined: none are sent. */
  url(): string | undefined;
  delayMs: number;
  /** Share of reports that say Failed. */
  failureRate: number;
}

/** Posts AT-style delivery reports, a few at a time, after the delay: what AT would do. */
function reportLater(reports: EmulatorReports, messages: ReadonlyArray<{ messageId: string; to: string }>): void {
  const url = reports.url();
  if (!url) return;
  setTimeout(() => {
    void (async () => {
      for (let i = 0; i < messages.length; i += 20) {
        await Promise.all(
          messages.slice(i, i + 20).map(({ messageId, to }) => {
            const failed = Math.random() < reports.failureRate;
            const body = new URLSearchParams({ id: messageId, status: failed ? 'Failed' : 'Success', phoneNumber: to, networkCode: '61002', retryCount: '0', ...(failed ? { failureReason: 'DeliveryFailure' } : {}) });
            return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
          }),
        );
      }
    })();
  }, reports.delayMs).unref();
}

export function createEmulatorGateway(connection: Connection, protection: PhoneProtection, now: () => Date = () => new Date(), reports?: EmulatorReports): SmsGateway & EmulatorOutbox {
  const outbox = modelOn<EmulatedMessage>(
    connection,
    'EmulatedMessage',
    () => new Schema<EmulatedMessage>({ _id: String, toHash: String, toMasked: String, from: String, text: String, parts: Number, purpose: String, at: Date }, { collection: 'emulator_outbox', versionKey: false }),
  );
  return {
    name: 'emulator',
    async send(batch) {
      const { parts } = analyzeText(batch.text);
      const at = now();
      const results: RecipientResult[] = batch.to.map((to) => ({ to, outcome: 'accepted', messageId: `ATXid_emu_${randomUUID()}`, statusCode: 101, status: 'Success', cost: `XOF ${(20 * parts).toFixed(4)}`, parts }));
      await outbox.insertMany(
        results.map((result) => ({ _id: result.messageId, toHash: protection.hash(result.to), toMasked: maskPhone(result.to), from: batch.from ?? 'safeline', text: batch.text, parts, purpose: batch.purpose ?? 'other', at })),
      );
      if (reports) reportLater(reports, results.map((result) => ({ messageId: result.messageId ?? '', to: result.to })));
      return results;
    },
    list: (limit, options) => outbox.find(options?.campaignOnly ? { purpose: { $in: [...CAMPAIGN_PURPOSES] } } : {}).sort({ at: -1 }).limit(limit).lean<EmulatedMessage[]>().exec(),
    sentTo: (phoneHash) => outbox.find({ toHash: phoneHash }).sort({ at: -1 }).lean<EmulatedMessage[]>().exec(),
  };
}
