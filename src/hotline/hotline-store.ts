import { modelOn } from '../platform/mongo';
import { Schema, type Connection, type Model } from 'mongoose';

/** An anonymous report of a suspected case: no phone number, ever. */
export interface CaseReport {
  _id: string; // the reference code the caller was given
  kind: string;
  region: string;
  urgency: string;
  wantsCallback: boolean;
  channel: 'ussd' | 'sms';
  createdAt: Date;
  /** "YYYY-MM-DD" (Africa/Bamako = UTC): grouping by day without date operators the test server lacks. */
  day: string;
}

/** A request to be called back. The number is sealed (AES-256-GCM) and found by its keyed hash. */
export interface CallbackRequest {
  _id: string; // reference code
  phoneHash: string;
  phoneSealed: string;
  language: string;
  window: string;
  topic: string;
  urgency: string;
  region: string;
  confirmBySms: boolean;
  status: 'new' | 'claimed' | 'in_progress' | 'completed' | 'unreachable' | 'cancelled';
  channel: 'ussd' | 'sms';
  createdAt: Date;
  day: string;
}

export interface HotlineStore {
  recordReport(report: Omit<CaseReport, 'createdAt' | 'day'>, at: Date): Promise<void>;
  recordCallbackRequest(request: Omit<CallbackRequest, 'createdAt' | 'day' | 'status'>, at: Date): Promise<void>;
  findReport(reference: string): Promise<CaseReport | undefined>;
  findCallbackRequest(reference: string): Promise<CallbackRequest | undefined>;
}

const day = (at: Date): string => at.toISOString().slice(0, 10);

export function createHotlineStore(connection: Connection): HotlineStore {
  const reports: Model<CaseReport> =
    modelOn<CaseReport>(connection, 'CaseReport', () => new Schema<CaseReport>(
        { _id: String, kind: String, region: String, urgency: String, wantsCallback: Boolean, channel: String, createdAt: Date, day: String },
        { collection: 'case_reports', versionKey: false },
      ));
  const callbacks: Model<CallbackRequest> =
    modelOn<CallbackRequest>(connection, 'CallbackRequest', () => new Schema<CallbackRequest>(
        {
          _id: String,
          phoneHash: { type: String, index: true },
          phoneSealed: String,
          language: String,
          window: String,
          topic: String,
          urgency: String,
          region: String,
          confirmBySms: Boolean,
          status: String,
          channel: String,
          createdAt: Date,
          day: String,
        },
        { collection: 'callback_requests', versionKey: false },
      ));

  return {
    // Upserts keyed by the reference code: a replayed or retried event writes nothing twice.
    async recordReport(report, at) {
      const { _id, ...fields } = report;
      await reports.updateOne({ _id }, { $setOnInsert: { ...fields, createdAt: at, day: day(at) } }, { upsert: true });
    },
    async recordCallbackRequest(request, at) {
      const { _id, ...fields } = request;
      await callbacks.updateOne({ _id }, { $setOnInsert: { ...fields, status: 'new', createdAt: at, day: day(at) } }, { upsert: true });
    },
    async findReport(reference) {
      return (await reports.findById(reference).lean<CaseReport>().exec()) ?? undefined;
    },
    async findCallbackRequest(reference) {
      return (await callbacks.findById(reference).lean<CallbackRequest>().exec()) ?? undefined;
    },
  };
}
