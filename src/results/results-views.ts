import type { ResultQuestion } from '../flow-engine/questions';
import { AppError } from '../platform/app-error';
import { cellOf, type Cell } from '../shared/small-cells';
import { GROUPS, groupFigures, type Group, type GroupFigures, type QuizCampaign, type QuizCampaigns } from './campaign-comparison';
import { ALL, regionScope } from './contribution';
import { questionFigures, REGION_FILTERS, respondentsOf, type QuestionFigures } from './question-figures';
import type { ResultsDeps } from './results-deps';

export type ViewDeps = Pick<ResultsDeps, 'questions' | 'counts' | 'comparisons'> & { readonly quizCampaigns: QuizCampaigns };

/** The question a path names; 404 with the known ones when there is none. */
export function questionOf(deps: Pick<ViewDeps, 'questions'>, flow: unknown, result: unknown): ResultQuestion {
  const found = deps.questions.find((question) => question.flow === flow && question.result === result);
  if (found) return found;
  const known = deps.questions.map((question) => `${question.flow}/${question.result}`).join(', ');
  throw AppError.notFound(`No question "${String(flow)}/${String(result)}": the questions are ${known || 'none'}`);
}

/** A region filter: none, or a region that exists (400 otherwise, with the ones that do). */
export function regionOf(value: unknown): string | null {
  if (value === undefined || value === '') return null;
  if (typeof value === 'string' && REGION_FILTERS.includes(value)) return value;
  const given = typeof value === 'string' ? value : JSON.stringify(value);
  throw AppError.badRequest(`region "${given}" does not exist; regions: ${REGION_FILTERS.join(', ')}`);
}

/** A campaign's groups on one question, as published. */
export interface CampaignGroups {
  readonly campaign: string;
  readonly name: string;
  /** When the worker last compared it (null: not yet). */
  readonly comparedAt: string | null;
  /** Numbers the campaign's SMS reached. */
  readonly reached: Cell | null;
  readonly groups: Readonly<Record<Group, GroupFigures>>;
}

const campaignsNaming = async (deps: Pick<ViewDeps, 'quizCampaigns'>, flow: string): Promise<QuizCampaign[]> =>
  (await deps.quizCampaigns.list()).filter((campaign) => campaign.quizFlow === flow);

async function groupsOf(deps: Pick<ViewDeps, 'comparisons'>, campaign: QuizCampaign, result: string): Promise<CampaignGroups> {
  const compared = await deps.comparisons.find(campaign.id);
  const question = compared?.questions[result];
  return {
    campaign: campaign.id,
    name: campaign.name,
    comparedAt: compared ? new Date(compared.comparedAt).toISOString() : null,
    reached: compared ? cellOf(compared.reached) : null,
    groups: Object.fromEntries(GROUPS.map((group) => [group, groupFigures(question?.[group])])) as Record<Group, GroupFigures>,
  };
}

export interface QuestionView {
  readonly question: ResultQuestion;
  readonly figures: QuestionFigures;
  /** The campaigns that name this question's quiz, each with its before-and-after groups. */
  readonly campaigns: readonly CampaignGroups[];
}

/** Everything a question's page and API show: a few reads by `_id`, whatever the number of results. */
export async function questionView(deps: ViewDeps, question: ResultQuestion, region: string | null): Promise<QuestionView> {
  const stored = await deps.counts.counts(question.flow, question.result, region === null ? ALL : regionScope(region));
  const campaigns = question.correct === undefined ? [] : await campaignsNaming(deps, question.flow);
  return {
    question,
    figures: questionFigures(question, stored, region),
    campaigns: await Promise.all(campaigns.map((campaign) => groupsOf(deps, campaign, question.result))),
  };
}

/** Every question with its respondents and, for a quiz, its right-answer rate. */
export async function questionList(deps: ViewDeps) {
  return Promise.all(
    deps.questions.map(async (question) => {
      const stored = await deps.counts.counts(question.flow, question.result, ALL);
      const { overall } = questionFigures(question, stored, null);
      return { question, respondents: respondentsOf(stored), correctRate: overall.correctRate ?? null };
    }),
  );
}

/** One campaign's comparison on each question of its quiz; 404 when the campaign names no quiz. */
export async function campaignView(deps: ViewDeps, campaignId: string) {
  const campaign = await deps.quizCampaigns.get(campaignId);
  if (!campaign) throw AppError.notFound('No such campaign');
  const flow = campaign.quizFlow;
  if (!flow) throw AppError.notFound(`Campaign "${campaign.name}" names no quiz: give it one to compare before and after`);
  const questions = deps.questions.filter((question) => question.flow === flow);
  return {
    campaign,
    flow,
    questions: await Promise.all(questions.map(async (question) => ({ question, ...(await groupsOf(deps, campaign, question.result)) }))),
  };
}
