import { modelOn } from '../platform/mongo';
import { Schema, type Connection, type Model } from 'mongoose';

/** A person who consented to awareness SMS, keyed by the keyed hash of their number. */
export interface Subscriber {
  _id: string; // phone hash
  phoneSealed: string;
  language: string;
  topics: string[];
  consent: { status: 'opted_in' | 'opted_out'; source: 'ussd' | 'sms' | 'import' | 'console'; at: Date; evidence: string };
  createdAt: Date;
}

export interface SubscriberStore {
  /** Adds or removes a topic ("all" removes every topic and records the opt-out). */
  recordTopicChoice(input: { phoneHash: string; phoneSealed: string; language: string; topic: string; subscribed: boolean; source: Subscriber['consent']['source']; evidence: string }, at: Date): Promise<void>;
  find(phoneHash: string): Promise<Subscriber | undefined>;
}

export function createSubscriberStore(connection: Connection): SubscriberStore {
  const subscribers: Model<Subscriber> =
    modelOn<Subscriber>(connection, 'Subscriber', () => new Schema<Subscriber>(
        { _id: String, phoneSealed: String, language: String, topics: [String], consent: { status: String, source: String, at: Date, evidence: String }, createdAt: Date },
        { collection: 'subscribers', versionKey: false },
      ));

  return {
    async recordTopicChoice(input, at) {
      const consent = { source: input.source, at, evidence: input.evidence };
      const update = input.subscribed
        ? { $addToSet: { topics: input.topic }, $set: { phoneSealed: input.phoneSealed, language: input.language, consent: { ...consent, status: 'opted_in' } } }
        : input.topic === 'all'
          ? { $set: { topics: [], consent: { ...consent, status: 'opted_out' } } }
          : { $pull: { topics: input.topic } };
      await subscribers.updateOne({ _id: input.phoneHash }, { ...update, $setOnInsert: { createdAt: at } }, { upsert: input.subscribed || input.topic === 'all' });
    },
    async find(phoneHash) {
      return (await subscribers.findById(phoneHash).lean<Subscriber>().exec()) ?? undefined;
    },
  };
}
