import type { Request, Response } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import type { QueueFactory } from '../platform/queues';
import type { ApiRegistry } from '../staff/api-registry';
import type { AuditLog } from '../staff/audit-log';
import type { Texts } from '../texts/texts';
import { resultsCsv } from './results-csv';
import { queueComparison } from './results-jobs';
import { campaignView, questionList, questionOf, questionView, regionOf, type ViewDeps } from './results-views';

/** Who reads results: campaign managers (their campaigns' effect) and admins. */
export const RESULTS_READERS = ['campaign_manager', 'admin'] as const;
const figuresQuery = z.strictObject({
  region: z.string().max(40).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

export interface ResultsApiDeps extends ViewDeps {
  readonly audit: AuditLog;
  readonly texts: Texts;
  readonly queues: QueueFactory;
}

const campaignIdOf = (req: Request): string => {
  const id = String(req.params.id ?? '');
  if (!z.string().uuid().safeParse(id).success) throw AppError.badRequest('id must be a campaign id (uuid)');
  return id;
};

export function registerResultsApi(api: ApiRegistry, deps: ResultsApiDeps): void {
  const titleOf = (keys: readonly string[]): Record<string, string> =>
    Object.fromEntries(deps.texts.languages.map((language) => [language.code, deps.texts.t(language.code, keys.at(-1) ?? '')]));

  api.add(
    {
      method: 'get',
      path: '/results',
      summary: 'The questions that record results, with their respondents (under 5: "<5")',
      access: { roles: RESULTS_READERS },
    },
    async () => ({
      questions: (await questionList(deps)).map(({ question, respondents, correctRate }) => ({
        flow: question.flow, result: question.result, title: titleOf(question.titleKeys), respondents, correctRate,
        quiz: question.correct !== undefined,
      })),
    }),
  );

  // Before /results/:flow/:result, which would take "campaigns" for a flow.
  api.add(
    {
      method: 'get',
      path: '/results/campaigns/:id',
      summary: "A campaign's quiz compared: right-answer rates before its SMS reached people, after, and of those it did not reach",
      access: { roles: RESULTS_READERS },
    },
    async ({ req }) => {
      const view = await campaignView(deps, campaignIdOf(req));
      return {
        campaign: view.campaign.id, name: view.campaign.name, flow: view.flow,
        questions: view.questions.map(({ question, comparedAt, reached, groups }) => ({
          result: question.result, comparedAt, reached, groups,
        })),
      };
    },
  );
  api.add(
    {
      method: 'post',
      path: '/results/campaigns/:id/compare',
      summary: "Compare a campaign's quiz again now (the worker does it every hour)",
      access: { roles: RESULTS_READERS },
    },
    async ({ req }) => {
      const view = await campaignView(deps, campaignIdOf(req));
      await queueComparison(deps.queues, view.campaign.id);
      return { queued: true };
    },
  );

  const exportCsv = async (req: Request, res: Response, staff: string, region: string | null) => {
    const view = await questionView(deps, questionOf(deps, req.params.flow, req.params.result), region);
    const csv = resultsCsv(view);
    const details = { flow: view.question.flow, result: view.question.result, region: region ?? '', lines: csv.split('\r\n').length - 2 };
    const target = `${view.question.flow}/${view.question.result}`;
    await deps.audit.append({ actor: staff, action: 'results.exported', target, ip: req.ip ?? '', details });
    res.type('text/csv').attachment(`results-${view.question.flow}-${view.question.result}${region ? `-${region}` : ''}.csv`).send(csv);
  };
  const figuresSummary =
    'A question\'s respondents and shares by category, by region, language, age band, sex and week (cells under 5 respondents: "<5"), ' +
    'and for a quiz the before-and-after comparison of each campaign naming it; ?region= narrows to one region';
  api.add(
    {
      method: 'get',
      path: '/results/:flow/:result.csv',
      summary: 'The same figures as CSV, one line per category and split (no numbers, no hashes; recorded in the audit log)',
      access: { roles: RESULTS_READERS },
      query: figuresQuery,
    },
    ({ req, res, query, staff }) => exportCsv(req, res, staff?.user._id ?? 'unknown', regionOf(query.region)),
  );
  api.add(
    { method: 'get', path: '/results/:flow/:result', summary: figuresSummary, access: { roles: RESULTS_READERS }, query: figuresQuery },
    async ({ req, res, query, staff }) => {
      const region = regionOf(query.region);
      if (query.format === 'csv') return exportCsv(req, res, staff?.user._id ?? 'unknown', region);
      const { question, figures, campaigns } = await questionView(deps, questionOf(deps, req.params.flow, req.params.result), region);
      return { title: titleOf(question.titleKeys), ...figures, campaigns };
    },
  );
}
