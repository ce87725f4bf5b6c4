import { Schema, type Connection } from 'mongoose';
import type { ResultQuestion } from '../flow-engine/questions';
import { modelOn } from '../platform/mongo';
import { cellOf, type Cell } from '../shared/small-cells';
import { latestOf, type KeptAnswer } from './contribution';
import { correctCell } from './question-figures';
import type { ResultCounts } from './result-counts';

/** Respondents of one group and how many of them answered right. */
export interface GroupCount {
  readonly respondents: number;
  readonly correct: number;
}

/** Before the campaign reached them, after, and never reached. */
export const GROUPS = ['before', 'after', 'notReached'] as const;
export type Group = (typeof GROUPS)[number];

/**
 * A campaign's quiz compared, collection `campaign_quiz_comparisons` (`_id` the campaign): per question of the
 * quiz, the groups' counts; `reached`, how many numbers the campaign reached. Made by the worker, read by pages.
 */
export interface StoredComparison {
  readonly _id: string;
  readonly flow: string;
  readonly comparedAt: Date;
  readonly reached: number;
  readonly questions: Readonly<Record<string, Readonly<Record<Group, GroupCount>>>>;
}

export function createComparisons(connection: Connection) {
  const comparisons = modelOn<StoredComparison>(connection, 'CampaignQuizComparison', () =>
    new Schema<StoredComparison>(
      { _id: String, flow: String, comparedAt: Date, reached: Number, questions: Schema.Types.Mixed },
      { collection: 'campaign_quiz_comparisons', versionKey: false, minimize: false },
    ),
  );
  return {
    async save(comparison: StoredComparison): Promise<void> {
      await comparisons.replaceOne({ _id: comparison._id }, comparison, { upsert: true }).exec();
    },
    find: async (campaign: string): Promise<StoredComparison | undefined> =>
      (await comparisons.findById(campaign).lean<StoredComparison>().exec()) ?? undefined,
  };
}

export type Comparisons = ReturnType<typeof createComparisons>;

/** A campaign as results need it. The campaigns room provides them: results read none of its stores. */
export interface QuizCampaign {
  readonly id: string;
  readonly name: string;
  /** The quiz flow it is compared on, or null. */
  readonly quizFlow: string | null;
  readonly runs: readonly string[];
}

export interface QuizCampaigns {
  /** The latest campaigns (as many as the campaigns page lists), newest first. */
  list(): Promise<QuizCampaign[]>;
  get(id: string): Promise<QuizCampaign | undefined>;
  /**
   * When the gateway first accepted the campaign's SMS for each number, by keyed phone hash (the subscriber's id,
   * the same hash a respondent is kept under), in ms.
   */
  reachOf(campaign: QuizCampaign): Promise<Map<string, number>>;
}

export interface CompareDeps {
  readonly quizCampaigns: QuizCampaigns;
  readonly counts: Pick<ResultCounts, 'respondentsOf'>;
  readonly comparisons: Comparisons;
  readonly questions: readonly ResultQuestion[];
  now(): Date;
}

type Tally = { respondents: number; correct: number };
const freshTallies = (): Record<Group, Tally> =>
  Object.fromEntries(GROUPS.map((group) => [group, { respondents: 0, correct: 0 }])) as Record<Group, Tally>;

const counted = (group: Tally, answer: KeptAnswer | undefined): void => {
  if (!answer) return;
  group.respondents += 1;
  if (answer.correct === true) group.correct += 1;
};

/**
 * Compares the quiz a campaign names: per question, respondents reached who answered before (their latest answer
 * before the campaign's SMS), reached who answered after (their latest answer since), and never reached (their
 * latest answer). A respondent who answered both before and after is in both. Undefined: no such campaign or quiz.
 */
export async function compareCampaign(deps: CompareDeps, campaignId: string): Promise<StoredComparison | undefined> {
  const campaign = await deps.quizCampaigns.get(campaignId);
  const flow = campaign?.quizFlow;
  if (!campaign || !flow) return undefined;
  const reach = await deps.quizCampaigns.reachOf(campaign);
  const groups = new Map(
    deps.questions
      .filter((question) => question.flow === flow)
      .map((question) => [question.result, freshTallies()]),
  );
  for await (const respondent of deps.counts.respondentsOf(flow)) {
    const question = groups.get(respondent.result);
    if (!question) continue;
    const reachedAt = reach.get(respondent.respondent);
    const answers = respondent.answers.map((answer) => ({ ...answer, at: new Date(answer.at) }));
    if (reachedAt === undefined) {
      counted(question.notReached, latestOf(answers));
      continue;
    }
    counted(question.before, latestOf(answers.filter((answer) => answer.at.getTime() < reachedAt)));
    counted(question.after, latestOf(answers.filter((answer) => answer.at.getTime() >= reachedAt)));
  }
  const comparison: StoredComparison = {
    _id: campaign.id,
    flow,
    comparedAt: deps.now(),
    reached: reach.size,
    questions: Object.fromEntries(groups),
  };
  await deps.comparisons.save(comparison);
  return comparison;
}

/** One group as published: its respondents and right answers, small cells suppressed, and the rate. */
export interface GroupFigures {
  readonly respondents: Cell;
  readonly correct: Cell;
  readonly correctRate: number | null;
}

export const groupFigures = (group: GroupCount | undefined): GroupFigures => {
  const respondents = group?.respondents ?? 0;
  return { respondents: cellOf(respondents), ...correctCell(group?.correct ?? 0, respondents) };
};
