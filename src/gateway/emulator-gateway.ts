import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import { maskPhone } from '../shared/redact';
import type { PhoneProtection } from '../shared/phone-protection';
import { analyzeText } from '../shared/sms-encoding';
import { CAMPAIGN_PURPOSES, type RecipientResult, type SmsGateway } from './sms-gateway';

/**
 * A message the emulator "sent", or one a simulated operator received (`SMS_GATEWAY=kannel npm run dev`): what a
 * newcomer sees arrive in the console instead of on a phone.
 */
export interface EmulatedMessage {
  _id: string; // the messageId it answered with
  toHash: string;
  toMasked: string;
  from: string;
  text: string;
  parts: number;
  /** What it was for (see OutgoingSms); absent on messages kept before it was recorded, and on an operator's (it cannot know). */
  purpose?: string;
  /** The simulated operator (its Kannel smsc-id) that received it; absent: the emulator itself. */
  via?: string;
  at: Date;
}

export interface EmulatorOutbox {
  /** Newest first; only campaign messages when asked (hotline alerts and confirmations are for admins). */
  list(limit: number, options?: { campaignOnly?: boolean }): Promise<EmulatedMessage[]>;
  /** Messages sent to one number (by keyed hash), newest first. */
  sentTo(phoneHash: string): Promise<EmulatedMessage[]>;
}

/** One message to keep: the number in full (only its keyed hash and a masked form are stored). */
export interface MessageToKeep {
  readonly id: string;
  readonly to: string;
  readonly from: string;
  readonly text: string;
  readonly parts: number;
  readonly purpose?: string;
  readonly via?: string;
  readonly at: Date;
}

export interface EmulatorStore extends EmulatorOutbox {
  keep(messages: readonly MessageToKeep[]): Promise<void>;
}

/** The emulator's store (collection emulator_outbox): written by the emulator and by npm run dev's simulated operators. */
export function createEmulatorOutbox(connection: Connection, protection: PhoneProtection): EmulatorStore {
  const outbox = modelOn<EmulatedMessage>(
    connection,
    'EmulatedMessage',
    () => new Schema<EmulatedMessage>(
      { _id: String, toHash: String, toMasked: String, from: String, text: String, parts: Number, purpose: String, via: String, at: Date },
      { collection: 'emulator_outbox', versionKey: false },
    ),
  );
  return {
    async keep(messages) {
      const docs = messages.map(({ id, to, ...message }) => ({
        _id: id, toHash: protection.hash(to), toMasked: maskPhone(to), ...message,
      }));
      await outbox.insertMany(docs);
    },
    list: (limit, options) => {
      const filter = options?.campaignOnly ? { purpose: { $in: [...CAMPAIGN_PURPOSES] } } : {};
      return outbox.find(filter).sort({ at: -1 }).limit(limit).lean<EmulatedMessage[]>().exec();
    },
    sentTo: (phoneHash) => outbox.find({ toHash: phoneHash }).sort({ at: -1 }).lean<EmulatedMessage[]>().exec(),
  };
}

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
            const body = new URLSearchParams({
              id: messageId,
              status: failed ? 'Failed' : 'Success',
              phoneNumber: to,
              networkCode: '61002',
              retryCount: '0',
              ...(failed ? { failureReason: 'DeliveryFailure' } : {}),
            });
            return fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body,
              signal: AbortSignal.timeout(5_000),
            }).catch(() => undefined);
          }),
        );
      }
    })();
  }, reports.delayMs).unref();
}

/**
 * The default gateway of `npm run dev` and the tests: nothing leaves the machine. It answers like
 * Africa's Talking (status 101 "Success", a messageId, a cost per part) and keeps what it sent.
 */
export function createEmulatorGateway(
  connection: Connection,
  protection: PhoneProtection,
  now: () => Date = () => new Date(),
  reports?: EmulatorReports,
): SmsGateway & EmulatorOutbox {
  const store = createEmulatorOutbox(connection, protection);
  return {
    name: 'emulator',
    async send(batch) {
      const { parts } = analyzeText(batch.text);
      const at = now();
      const results: RecipientResult[] = batch.to.map((to) => ({
        to,
        outcome: 'accepted',
        messageId: `ATXid_emu_${randomUUID()}`,
        statusCode: 101,
        status: 'Success',
        cost: `XOF ${(20 * parts).toFixed(4)}`,
        parts,
      }));
      const from = batch.from ?? 'safeline';
      const purpose = batch.purpose ?? 'other';
      await store.keep(
        results.map((result) => ({ id: result.messageId ?? '', to: result.to, from, text: batch.text, parts, purpose, at })),
      );
      if (reports) {
        reportLater(
          reports,
          results.map((result) => ({ messageId: result.messageId ?? '', to: result.to })),
        );
      }
      return results;
    },
    list: (limit, options) => store.list(limit, options),
    sentTo: (phoneHash) => store.sentTo(phoneHash),
  };
}
