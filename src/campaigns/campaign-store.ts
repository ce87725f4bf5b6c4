import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../platform/mongo';
import type { AudienceFilter } from '../subscribers/subscriber-store';
import type { CampaignPoll } from './campaign-poll';

export const AXES = ['prevention', 'protection', 'prosecution', 'partnership'] as const;
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export type CampaignSchedule =
  | { kind: 'now' }
  | { kind: 'at'; at: Date }
  /** Cron in Africa/Bamako time; each occurrence is a run of its own. */
  | { kind: 'recurring'; cron: string }
  /** N days after each subscriber joined (like RapidPro's campaign events): one run, checked hourly. */
  | { kind: 'relative'; daysAfterJoin: number };

/** A campaign: one message per language, an audience, when and how fast to send. Plain data. */
export interface Campaign {
  _id: string;
  name: string;
  axis: (typeof AXES)[number];
  /** Text per language code; a subscriber whose language has no text gets nothing. */
  texts: Record<string, string>;
  /** Languages whose text is sent in its ASCII spelling (cheaper GSM-7, harder to read). */
  asciiLanguages: string[];
  audience: AudienceFilter;
  schedule: CampaignSchedule;
  /** Quiet hours: messages go out only between these times (Bamako = UTC). */
  sendWindow: { from: string; to: string };
  /** At most this many messages per second, or all within this many hours (the slower wins). */
  spread: { maxPerSecond: number | null; finishWithinHours: number | null };
  /** Stop queuing recipients once the estimated cost reaches this (XOF); null: no cap. */
  budgetCap: number | null;
  senderId: string | null;
  /** A quiz flow whose right-answer rates the results pages compare before and after this campaign reached people. */
  quizFlow: string | null;
  /** The partner organisation it is run with, when there is one (absent on older campaigns). */
  partner?: string | null;
  /** Set when the campaign asks a question whose SMS replies are counted (campaign-poll.ts). */
  poll: CampaignPoll | null;
  status: CampaignStatus;
  /** Why the campaign stopped by itself (credentials refused, budget reached), shown to the manager. */
  stoppedReason: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  scheduledAt: Date | null;
  /** Its runs: one for now, at and relative; one per occurrence for recurring. Kept here, not in Redis, so a Redis restart loses none. */
  runs: string[];
}

export type NewCampaign = Omit<Campaign, '_id' | 'status' | 'stoppedReason' | 'createdAt' | 'updatedAt' | 'scheduledAt' | 'runs'>;

export function createCampaignStore(connection: Connection, now: () => Date = () => new Date()) {
  const campaigns = modelOn<Campaign>(connection, 'Campaign', () =>
    new Schema<Campaign>(
      {
        _id: String,
        name: String,
        axis: String,
        texts: Schema.Types.Mixed,
        asciiLanguages: [String],
        audience: Schema.Types.Mixed,
        schedule: Schema.Types.Mixed,
        sendWindow: { from: String, to: String },
        spread: { maxPerSecond: Number, finishWithinHours: Number },
        budgetCap: Number,
        senderId: String,
        quizFlow: String,
        partner: String,
        poll: Schema.Types.Mixed,
        status: String,
        stoppedReason: String,
        createdBy: String,
        createdAt: Date,
        updatedAt: Date,
        scheduledAt: Date,
        runs: [String],
      },
      { collection: 'campaigns', versionKey: false, minimize: false },
    ),
  );
  const revive = (campaign: Campaign | null): Campaign | undefined => {
    if (!campaign) return undefined;
    const schedule = campaign.schedule.kind === 'at' ? { ...campaign.schedule, at: new Date(campaign.schedule.at) } : campaign.schedule;
    const { joinedFrom, joinedTo } = campaign.audience;
    return {
      ...campaign,
      schedule,
      audience: {
        ...campaign.audience,
        joinedFrom: joinedFrom ? new Date(joinedFrom) : undefined,
        joinedTo: joinedTo ? new Date(joinedTo) : undefined,
      },
      asciiLanguages: campaign.asciiLanguages ?? [],
      quizFlow: campaign.quizFlow ?? null,
      poll: campaign.poll ?? null,
      runs: [...(campaign.runs ?? [])].sort(),
    };
  };
  return {
    async create(campaign: NewCampaign): Promise<Campaign> {
      const at = now();
      const doc: Campaign = {
        ...campaign,
        _id: randomUUID(),
        status: 'draft',
        stoppedReason: null,
        createdAt: at,
        updatedAt: at,
        scheduledAt: null,
        runs: [],
      };
      await campaigns.create(doc);
      return doc;
    },
    get: async (id: string): Promise<Campaign | undefined> => revive(await campaigns.findById(id).lean<Campaign>().exec()),
    list: async (): Promise<Campaign[]> =>
      (await campaigns.find().sort({ createdAt: -1 }).limit(200).lean<Campaign[]>().exec()).map((campaign) => revive(campaign) as Campaign),
    /** The partner organisation of each of these campaigns ('' when none is recorded). */
    async partnersOf(ids: readonly string[]): Promise<Map<string, string>> {
      const found = await campaigns.find({ _id: { $in: ids } }, { partner: 1 }).lean<Array<Pick<Campaign, '_id' | 'partner'>>>().exec();
      return new Map(found.map((campaign) => [campaign._id, campaign.partner ?? '']));
    },
    addRun: async (id: string, run: string): Promise<void> => void (await campaigns.updateOne({ _id: id }, { $addToSet: { runs: run } })),
    /** Callers hold the campaign's lock. */
    async update(id: string, set: Partial<Campaign>): Promise<void> {
      await campaigns.updateOne({ _id: id }, { $set: { ...set, updatedAt: now() } });
    },
  };
}

export type CampaignStore = ReturnType<typeof createCampaignStore>;
