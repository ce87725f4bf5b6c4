import { modelOn } from '../platform/mongo';
import { Schema, type Connection, type Model } from 'mongoose';
import type { PhoneProtection } from '../shared/phone-protection';
import type { UssdSessionEvent } from './ussd-request';

interface StoredSessionEvent {
  _id: string; // AT's sessionId: a notification sent twice is stored once
  phoneHash: string;
  status: string;
  serviceCode: string;
  networkCode: string;
  cost?: string;
  durationInMillis?: number;
  hopsCount?: number;
  /** The caller's inputs are not kept, only how much they typed. */
  inputLength: number;
  errorMessage?: string;
  at: Date;
  day: string;
}

/** AT's end-of-session notifications, without the number or what the caller typed. */
export function createSessionEventsStore(connection: Connection, protection: PhoneProtection, now: () => Date) {
  const events: Model<StoredSessionEvent> = modelOn<StoredSessionEvent>(
    connection,
    'UssdSessionEvent',
    () =>
      new Schema<StoredSessionEvent>(
        {
          _id: String,
          phoneHash: String,
          status: String,
          serviceCode: String,
          networkCode: String,
          cost: String,
          durationInMillis: Number,
          hopsCount: Number,
          inputLength: Number,
          errorMessage: String,
          at: Date,
          day: String,
        },
        { collection: 'ussd_session_events', versionKey: false },
      ));
  return {
    async record(event: UssdSessionEvent): Promise<void> {
      const at = event.date && !Number.isNaN(Date.parse(event.date)) ? new Date(event.date) : now();
      await events.updateOne(
        { _id: event.sessionId },
        {
          $set: {
            phoneHash: protection.hash(event.phoneNumber),
            status: event.status,
            serviceCode: event.serviceCode,
            networkCode: event.networkCode,
            cost: event.cost,
            durationInMillis: event.durationInMillis,
            hopsCount: event.hopsCount,
            inputLength: event.input?.length ?? 0,
            errorMessage: event.errorMessage,
            at,
            day: at.toISOString().slice(0, 10),
          },
        },
        { upsert: true },
      );
    },
    /** Ended sessions on days in [fromDay, toDay], counted per caller (keyed hash). */
    async sessionsByCaller(fromDay: string, toDay: string): Promise<Array<{ phoneHash: string; sessions: number }>> {
      const rows = await events.aggregate<{ _id: string; sessions: number }>([
        { $match: { day: { $gte: fromDay, $lte: toDay } } },
        { $group: { _id: '$phoneHash', sessions: { $sum: 1 } } },
      ]).exec();
      return rows.map((row) => ({ phoneHash: row._id, sessions: row.sessions }));
    },
    async find(sessionId: string): Promise<StoredSessionEvent | undefined> {
      return (await events.findById(sessionId).lean<StoredSessionEvent>().exec()) ?? undefined;
    },
  };
}
