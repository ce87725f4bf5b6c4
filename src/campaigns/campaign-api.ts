import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import { toE164 } from '../shared/phone-number';
import type { StaffContext } from '../staff/access';
import type { ApiRegistry } from '../staff/api-registry';
import type { AuditLog } from '../staff/audit-log';
import type { KeywordMatch } from '../texts/sms-keywords';
import type { Texts } from '../texts/texts';
import { TOPICS } from '../subscribers/topics';
import type { CampaignDeps } from './campaign-deps';
import { campaignPreviewFor, campaignViewOf, pollCountsOf } from './campaign-views';
import type { ResultsStore } from '../results/results-store';
import { AXES } from './campaign-store';
import { pollInput, pollProblems, type CampaignPoll } from './campaign-poll';
import { campaignReportCsv } from './campaign-report';
import { listTemplates, textsFromTemplate } from './campaign-templates';
import { TestSendLimited, type TestSend } from './test-send';

const MANAGERS = ['campaign_manager', 'admin'] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const audience = z.strictObject({
  languages: z.array(z.string().regex(/^[a-z]{2,3}$/)).max(10).optional(),
  regions: z.array(z.string().max(40)).max(30).optional(),
  topics: z.array(z.enum(TOPICS)).max(TOPICS.length).optional(),
  joinedFrom: z.coerce.date().optional(),
  joinedTo: z.coerce.date().optional(),
});
const schedule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('now') }),
  z.strictObject({ kind: z.literal('at'), at: z.coerce.date() }),
  z.strictObject({
    kind: z.literal('recurring'),
    cron: z.string().regex(/^(\S+\s+){4}\S+$/, 'five cron fields, e.g. "0 9 * * 1" (Mondays 09:00 Bamako)'),
  }),
  z.strictObject({ kind: z.literal('relative'), daysAfterJoin: z.number().int().min(0).max(365) }),
]);
export const campaignInput = z.strictObject({
  name: z.string().trim().min(1).max(120),
  axis: z.enum(AXES),
  texts: z.record(z.string().regex(/^[a-z]{2,3}$/), z.string().trim().min(1).max(1_000)),
  asciiLanguages: z.array(z.string()).max(10).default([]),
  audience: audience.default({}),
  schedule: schedule.default({ kind: 'now' }),
  sendWindow: z.strictObject({ from: hhmm, to: hhmm }).default({ from: '08:00', to: '20:00' }),
  spread: z
    .strictObject({
      maxPerSecond: z.number().positive().max(10_000).nullable().default(null),
      finishWithinHours: z.number().positive().max(720).nullable().default(null),
    })
    .default({ maxPerSecond: null, finishWithinHours: null }),
  budgetCap: z.number().positive().nullable().default(null),
  senderId: z.string().regex(/^([A-Za-z0-9]{1,11}|\d{1,15})$/).nullable().default(null),
  quizFlow: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a flow id like "quiz"').nullable().default(null),
  poll: pollInput.nullable().default(null),
  /** The partner organisation the campaign is run with (the action plan's partnership axis counts by it). */
  partner: z.string().trim().max(80).nullable().default(null),
});
const template = z.strictObject({
  key: z.string().regex(/^[a-z0-9_]{1,60}$/),
  variables: z.record(z.string().regex(/^\w{1,40}$/), z.string().max(60)).default({}),
});
const previewInput = z.strictObject({
  texts: campaignInput.shape.texts.optional(),
  template: template.optional(),
  audience: audience.default({}),
});
/** A campaign's texts come written per language, or from a template in templates/<lang>/campaigns.json. */
const createInput = campaignInput.extend({ texts: campaignInput.shape.texts.optional(), template: template.optional() });
const testInput = z.strictObject({ phones: z.array(z.string().max(30)).min(1).max(10) });

export const campaignIdOf = (req: Request): string => {
  const id = String(req.params.id ?? '');
  if (!z.string().uuid().safeParse(id).success) throw AppError.badRequest('id must be a campaign id (uuid)');
  return id;
};
/** Refuses a poll its recipients could not answer as meant (the API and the console alike). */
export function checkPoll(poll: CampaignPoll | null, texts: Record<string, string>, keyword: (text: string) => KeywordMatch | undefined) {
  const problems = poll ? pollProblems(poll, Object.keys(texts), keyword) : [];
  if (problems.length) throw AppError.badRequest(`poll: ${problems.join('; ')}`);
}
const actor = (staff: StaffContext | undefined): string => staff?.user._id ?? 'unknown';

/** A campaign may name a quiz (a flow with right answers) to compare before and after it: one of these, or none. */
export function checkQuizFlow(quizFlows: readonly string[], quizFlow: string | null): void {
  if (quizFlow !== null && !quizFlows.includes(quizFlow)) {
    throw AppError.badRequest(`quizFlow: "${quizFlow}" is not a quiz; quizzes: ${quizFlows.join(', ') || 'none'}`);
  }
}

export function registerCampaignApi(
  api: ApiRegistry,
  deps: CampaignDeps & {
    audit: AuditLog;
    texts: Texts;
    templateKeys: readonly string[];
    testSend: TestSend;
    keyword: (text: string) => KeywordMatch | undefined;
    results: ResultsStore;
    quizFlows: readonly string[];
  },
): void {
  const enabled = deps.texts.languages.map((language) => language.code);
  const textsOf = (input: {
    texts?: Record<string, string>;
    template?: { key: string; variables: Record<string, string> };
  }): Record<string, string> => {
    if (input.template) return textsFromTemplate(deps.texts, input.template.key, input.template.variables);
    if (!input.texts) throw AppError.badRequest('texts or template: give the message');
    return input.texts;
  };

  api.add(
    {
      method: 'get',
      path: '/campaigns/templates',
      summary: 'Message templates (templates/<lang>/campaigns.json) with their languages and variables',
      access: { roles: MANAGERS },
    },
    () => Promise.resolve({ templates: listTemplates(deps.texts, deps.templateKeys) }),
  );
  const checkLanguages = (texts: Record<string, string>): void => {
    const unknown = Object.keys(texts).filter((code) => !enabled.includes(code));
    if (unknown.length) throw AppError.badRequest(`texts: unknown language(s) ${unknown.join(', ')}; enabled: ${enabled.join(', ')}`);
  };

  api.add({
    method: 'post',
    path: '/campaigns/preview',
    summary:
      'Per language: the text, characters, encoding, parts, recipients and cost (and the ASCII spelling where offered); ' +
      'per operator (route): recipients, parts and cost',
    access: { roles: MANAGERS },
    body: previewInput,
  }, async ({ body }) => {
    const texts = textsOf(body);
    checkLanguages(texts);
    return campaignPreviewFor(deps, texts, body.audience);
  });

  api.add(
    {
      method: 'post',
      path: '/campaigns',
      summary: 'Create a campaign (a draft), its texts written or from a template',
      access: { roles: MANAGERS },
      body: createInput,
    },
    async ({ body, staff, req }) => {
      const { template: _template, ...fields } = body;
      const texts = textsOf(body);
      checkLanguages(texts);
      checkQuizFlow(deps.quizFlows, fields.quizFlow);
      checkPoll(fields.poll, texts, deps.keyword);
      const campaign = await deps.management.create({ ...fields, texts, createdBy: actor(staff) });
      await deps.audit.append({ actor: actor(staff), action: 'campaign.created', target: campaign._id, ip: req.ip ?? '' });
      return campaignViewOf(deps, campaign);
    },
  );

  api.add({ method: 'get', path: '/campaigns', summary: 'Campaigns, newest first', access: { roles: MANAGERS } }, async () => ({
    campaigns: await Promise.all((await deps.campaigns.list()).map((campaign) => campaignViewOf(deps, campaign))),
  }));

  api.add(
    {
      method: 'get',
      path: '/campaigns/:id',
      summary: 'A campaign with the live counts of its runs (and, for a poll, its replies per category)',
      access: { roles: MANAGERS },
    },
    async ({ req }) => {
      const campaign = await deps.campaigns.get(campaignIdOf(req));
      if (!campaign) throw AppError.notFound('No such campaign');
      return { ...(await campaignViewOf(deps, campaign)), pollCounts: await pollCountsOf(deps.results, campaign) };
    },
  );

  for (const action of ['schedule', 'pause', 'resume', 'cancel'] as const) {
    api.add(
      {
        method: 'post',
        path: `/campaigns/:id/${action}`,
        summary: `${action[0]?.toUpperCase()}${action.slice(1)} a campaign`,
        access: { roles: MANAGERS },
      },
      async ({ req, staff }) => {
        const id = campaignIdOf(req);
        const campaign = await deps.management[action](id);
        await deps.audit.append({ actor: actor(staff), action: `campaign.${action}`, target: id, ip: req.ip ?? '' });
        // Read again: scheduling may have added a run.
        return campaignViewOf(deps, (await deps.campaigns.get(id)) ?? campaign);
      },
    );
  }

  api.add(
    {
      method: 'post',
      path: '/campaigns/:id/test',
      summary: "Send each language's text to staff numbers, marked [TEST]; opted-out numbers are left out; 10 an hour per user",
      access: { roles: MANAGERS },
      body: testInput,
    },
    async ({ req, res, body, staff }) => {
      const phones = body.phones.map((raw) => toE164(raw));
      if (phones.some((phone) => !phone)) throw AppError.badRequest('phones: one is not a valid phone number');
      try {
        return await deps.testSend({ campaignId: campaignIdOf(req), phones: phones as string[], actor: actor(staff), ip: req.ip ?? '' });
      } catch (err) {
        if (err instanceof TestSendLimited) res.setHeader('retry-after', String(err.retryAfterSeconds));
        throw err;
      }
    },
  );

  api.add(
    {
      method: 'get',
      path: '/campaigns/:id/report.csv',
      summary: 'Per-recipient results as CSV (phone numbers for admins only)',
      access: { roles: MANAGERS },
    },
    async ({ req, res, staff }) => {
      const id = campaignIdOf(req);
      const campaign = await deps.campaigns.get(id);
      if (!campaign) throw AppError.notFound('No such campaign');
      const { runs } = campaign;
      const results = (await Promise.all(runs.map((run) => deps.messages.resultsOfRun(run)))).flat();
      const reports = (await Promise.all(runs.map((run) => deps.messages.reportsOfRun(run)))).flat();
      const withPhones = staff?.user.roles.includes('admin') === true;
      let phoneOf: ((subscriber: string) => string) | undefined;
      if (withPhones) {
        const phones = new Map<string, string>();
        for (const subscriber of new Set(results.map((r) => r.subscriber))) {
          const found = await deps.subscribers.find(subscriber);
          phones.set(subscriber, found ? deps.protection.decrypt(found.phoneSealed) : '');
        }
        phoneOf = (subscriber) => phones.get(subscriber) ?? '';
      }
      await deps.audit.append({
        actor: actor(staff),
        action: 'campaign.report_exported',
        target: id,
        ip: req.ip ?? '',
        details: { rows: results.length, withPhones },
      });
      res
        .type('text/csv')
        .attachment(`campaign-${id}.csv`)
        .send(campaignReportCsv(results, reports, phoneOf));
    },
  );
}
