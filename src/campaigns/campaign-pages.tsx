import express, { Router, type Request, type Response } from 'express';
import type { ComponentChildren } from 'preact';
import { AppError } from '../platform/app-error';
import { toE164 } from '../shared/phone-number';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import type { AuditLog } from '../staff/audit-log';
import { consoleForbidden } from '../staff/console-forbidden';
import type { Texts } from '../texts/texts';
import { FunnelChart } from '../web/charts';
import { LiveHead } from '../web/console-layout';
import type { ConsoleShell } from '../web/console-shell';
import { PostForm } from '../web/form';
import { renderFragment } from '../web/render';
import { Table } from '../web/table';
import type { ResultsStore } from '../results/results-store';
import type { KeywordMatch } from '../texts/sms-keywords';
import { CountsSection } from '../web/table';
import { campaignIdOf, campaignInput, checkPoll, checkQuizFlow } from './campaign-api';
import type { CampaignDeps } from './campaign-deps';
import { TestSendLimited, type TestSend } from './test-send';
import { CampaignForm, CampaignPreview, listOf as list, pollFromForm, type Translate } from './campaign-form';
import type { Campaign } from './campaign-store';
import { textsFromTemplate } from './campaign-templates';
import { campaignPreviewFor, campaignViewOf, pollCountsOf } from './campaign-views';
import { waitingOf } from './run-progress';

const MANAGERS = ['campaign_manager', 'admin'] as const;
/** The buttons a campaign's page offers in each status. */
const ACTIONS: Readonly<Record<Campaign['status'], readonly string[]>> = {
  draft: ['schedule', 'cancel'],
  scheduled: ['pause', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  completed: [],
  cancelled: [],
};
const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const num = (value: unknown): number | null =>
  typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : null;

/** The manager's pages: campaigns, a form with a preview, and one campaign's live progress. */
export function campaignPages(
  deps: CampaignDeps & {
    shell: ConsoleShell;
    texts: Texts;
    audit: AuditLog;
    templateKeys: readonly string[];
    testSend: TestSend;
    keyword: (text: string) => KeywordMatch | undefined;
    results: ResultsStore;
    quizFlows: readonly string[];
  },
): Router {
  const router = Router();
  const page = deps.shell.page;
  const t = deps.shell.t;
  router.use('/console/campaigns', express.urlencoded({ extended: false, limit: '50kb' }), requireCsrf());
  const translate = (req: Request): Translate => (key, vars) => t(req, key, vars);

  router.get('/console/campaigns', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const campaigns = await Promise.all((await deps.campaigns.list()).map((campaign) => campaignViewOf(deps, campaign)));
    const c = (key: string): string => t(req, `console.campaigns.${key}`);
    const columns = [c('name'), c('col_status'), c('axis_label'), c('recipients'), c('sent'), c('delivered'), c('cost')];
    page(
      req,
      res,
      c('title'),
      <>
        <h1>{c('title')}</h1>
        <p><a href="/console/campaigns/new">{c('new')}</a></p>
        <Table columns={columns}>
          {campaigns.map((campaign) => (
            <tr>
              <td><a href={`/console/campaigns/${campaign._id}`}>{campaign.name}</a></td>
              <td>{c(`status.${campaign.status}`)}</td><td>{c(`axis.${campaign.axis}`)}</td><td>{campaign.progress.recipients}</td>
              <td>{campaign.progress.sent}</td><td>{campaign.progress.delivered}</td><td>{campaign.progress.cost.toFixed(0)}</td>
            </tr>
          ))}
        </Table>
      </>,
      staff,
    );
  });

  /** The form's fields as the API's input (the same validation). */
  const inputOf = (body: Record<string, unknown>) => {
    const texts: Record<string, string> = Object.fromEntries(
      deps.texts.languages.map((l): [string, string] => [l.code, str(body[`text_${l.code}`]).trim()]).filter(([, text]) => text !== ''),
    );
    const kind = str(body.schedule_kind, 'now');
    const schedule =
      kind === 'at'
        ? { kind, at: `${str(body.schedule_at)}Z` }
        : kind === 'recurring'
          ? { kind, cron: str(body.schedule_cron) }
          : kind === 'relative'
            ? { kind, daysAfterJoin: num(body.schedule_days) ?? -1 }
            : { kind: 'now' };
    return campaignInput.safeParse({
      name: str(body.name),
      axis: str(body.axis),
      texts,
      asciiLanguages: list(body.ascii),
      audience: {
        languages: list(body.languages),
        regions: str(body.regions).split(',').map((r) => r.trim().toLowerCase()).filter(Boolean),
        topics: list(body.topics),
      },
      schedule,
      sendWindow: { from: str(body.window_from) || '08:00', to: str(body.window_to) || '20:00' },
      spread: { maxPerSecond: num(body.max_per_second), finishWithinHours: num(body.finish_within_hours) },
      budgetCap: num(body.budget_cap),
      senderId: typeof body.sender_id === 'string' && body.sender_id.trim() ? body.sender_id.trim() : null,
      quizFlow: str(body.quiz_flow) || null,
      partner: typeof body.partner === 'string' && body.partner.trim() ? body.partner.trim() : null,
      poll: pollFromForm(body, deps.texts.languages),
    });
  };

  const form = (req: Request, res: Response, body: Record<string, unknown>, extra?: ComponentChildren): void => {
    const staff = staffOf(res) as StaffContext;
    const fields = { t: translate(req), body, languages: deps.texts.languages, templateKeys: deps.templateKeys, quizFlows: deps.quizFlows };
    page(req, res, t(req, 'console.campaigns.new'), <CampaignForm {...fields} csrfToken={staff.session.csrfToken} extra={extra} />, staff);
  };
  const refusal = (message: string) => <p class="error" role="alert">{message}</p>;

  router.get('/console/campaigns/new', allow({ roles: MANAGERS }, { html: true }), (req, res) => form(req, res, {}));

  router.post('/console/campaigns', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    if (body.intent === 'template') {
      // Fills each language's text from the template, for the manager to read and adjust.
      try {
        const variables = { hotline: str(body.var_hotline), ussd_code: str(body.var_ussd_code) };
        const filled = textsFromTemplate(deps.texts, str(body.template), variables);
        const texts = Object.fromEntries(Object.entries(filled).map(([language, text]) => [`text_${language}`, text]));
        return form(req, res, { ...body, ...texts });
      } catch (err) {
        res.status(400);
        return form(req, res, body, refusal((err as Error).message));
      }
    }
    const parsed = inputOf(body);
    if (!parsed.success) {
      res.status(400);
      return form(req, res, body, refusal(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
    }
    try {
      checkPoll(parsed.data.poll, parsed.data.texts, deps.keyword);
      checkQuizFlow(deps.quizFlows, parsed.data.quizFlow);
    } catch (err) {
      res.status(400);
      return form(req, res, body, refusal((err as Error).message));
    }
    if (body.intent === 'preview') {
      const preview = await campaignPreviewFor(deps, parsed.data.texts, parsed.data.audience);
      return form(req, res, body, <CampaignPreview t={translate(req)} preview={preview} routeCount={deps.routes.length} />);
    }
    const staff = staffOf(res) as StaffContext;
    const campaign = await deps.management.create({ ...parsed.data, createdBy: staff.user._id });
    await deps.audit.append({ actor: staff.user._id, action: 'campaign.created', target: campaign._id, ip: req.ip ?? '' });
    res.redirect(303, `/console/campaigns/${campaign._id}`);
  });

  const progressOf = async (req: Request, campaign: Campaign) => {
    const view = await campaignViewOf(deps, campaign);
    const p = view.progress;
    const counts = { ...p, queued: waitingOf(p) };
    // Failed to send (never sent) and failed delivery (sent, not delivered) apart: the first adds up with
    // sent to the recipients, the second is part of sent.
    const keys = (['recipients', 'queued', 'sent', 'delivered', 'failedDelivery', 'failed', 'optedOut', 'unknown', 'cancelled'] as const)
      .filter((key) => counts[key] > 0 || !['unknown', 'cancelled'].includes(key));
    const label = { optedOut: 'opted_out', failedDelivery: 'failed_delivery' } as Partial<Record<(typeof keys)[number], string>>;
    const rows = keys.map((key) => ({ key, label: t(req, `console.campaigns.${label[key] ?? key}`), value: counts[key] }));
    const pollCounts = await pollCountsOf(deps.results, campaign);
    const pollTitle = campaign.poll
      ? t(req, 'console.campaigns.poll_counts', { result: campaign.poll.result, hours: String(campaign.poll.windowHours) })
      : '';
    return (
      <>
        <p>
          {t(req, 'console.campaigns.col_status')}: <strong>{t(req, `console.campaigns.status.${view.status}`)}</strong>
          {view.stoppedReason ? <> - <span class="error">{view.stoppedReason}</span></> : null}
        </p>
        <FunnelChart rows={rows} title={t(req, 'console.campaigns.progress')} />
        <p>{t(req, 'console.campaigns.cost_so_far', { cost: p.cost.toFixed(0) })}</p>
        {pollCounts ? <CountsSection title={pollTitle} counts={pollCounts} /> : null}
      </>
    );
  };
  const campaignOf = async (req: Request): Promise<Campaign> => {
    const campaign = await deps.campaigns.get(campaignIdOf(req));
    if (!campaign) throw AppError.notFound('No such campaign');
    return campaign;
  };

  router.get('/console/campaigns/:id/progress', allow({ roles: MANAGERS }), async (req, res) => {
    res.type('html').set('cache-control', 'no-store').send(renderFragment(await progressOf(req, await campaignOf(req))));
  });

  // After a test send: how many went, and how many numbers were left out because they opted out.
  const testNotice = (req: Request) => {
    if (typeof req.query.tested !== 'string') return null;
    const leftOut = Number(req.query.left_out) || 0;
    return (
      <p role="status">
        {t(req, 'console.campaigns.test_queued', { count: String(Number(req.query.tested) || 0) })}
        {leftOut ? ` ${t(req, 'console.campaigns.test_left_out', { count: String(leftOut) })}` : null}
      </p>
    );
  };
  const detail = async (req: Request, res: Response, error?: string): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const campaign = await campaignOf(req);
    const csrfToken = staff.session.csrfToken;
    const path = `/console/campaigns/${campaign._id}`;
    const actions = ACTIONS[campaign.status];
    const body = (
      <>
        <p><a href="/console/campaigns">{t(req, 'console.campaigns.title')}</a></p>
        <h1>{campaign.name}</h1>
        {error ? refusal(error) : null}
        {testNotice(req)}
        <div data-live-src={`${path}/progress`} data-live-every="2000">{await progressOf(req, campaign)}</div>
        <p><span id="live-updated" aria-live="polite"></span></p>
        {actions.map((name) => (
          <PostForm class="inline-options" action={`${path}/${name}`} csrfToken={csrfToken}>
            <button>{t(req, `console.campaigns.action.${name}`)}</button>
          </PostForm>
        ))}
        <h2>{t(req, 'console.campaigns.texts')}</h2>
        <dl>
          {Object.entries(campaign.texts).map(([language, text]) => (
            <>
              <dt>{language}{campaign.asciiLanguages.includes(language) ? ' (ASCII)' : ''}</dt>
              <dd>{text}</dd>
            </>
          ))}
        </dl>
        {campaign.poll ? (
          <Table columns={[t(req, 'console.campaigns.poll_category'), ...Object.keys(campaign.texts)]}>
            {campaign.poll.categories.map((category) => (
              <tr>
                <th scope="row">{category.name}</th>
                {Object.keys(campaign.texts).map((language) => <td>{(category.replies[language] ?? []).join(', ')}</td>)}
              </tr>
            ))}
          </Table>
        ) : null}
        <PostForm action={`${path}/test`} csrfToken={csrfToken}>
          <label for="t-phones">{t(req, 'console.campaigns.test_phones')}</label>
          <input id="t-phones" name="phones" required />
          <button>{t(req, 'console.campaigns.test_send')}</button>
        </PostForm>
        <p><a href={`/api/v1/campaigns/${campaign._id}/report.csv`} download>{t(req, 'console.campaigns.report_csv')}</a></p>
        {campaign.quizFlow ? (
          <p>
            <a href={`/console/results/campaigns/${campaign._id}`}>
              {t(req, 'console.campaigns.quiz_results', { flow: campaign.quizFlow })}
            </a>
          </p>
        ) : null}
      </>
    );
    page(req, res, campaign.name, body, staff, <LiveHead seconds={10} />);
  };

  router.get('/console/campaigns/:id', allow({ roles: MANAGERS }, { html: true }), (req, res) => detail(req, res));

  for (const name of ['schedule', 'pause', 'resume', 'cancel'] as const) {
    router.post(`/console/campaigns/:id/${name}`, allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
      const staff = staffOf(res) as StaffContext;
      try {
        await deps.management[name](campaignIdOf(req));
        await deps.audit.append({ actor: staff.user._id, action: `campaign.${name}`, target: campaignIdOf(req), ip: req.ip ?? '' });
        res.redirect(303, `/console/campaigns/${campaignIdOf(req)}`);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
        res.status(err.status);
        await detail(req, res, err.message);
      }
    });
  }
  router.post('/console/campaigns/:id/test', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const typed = str((req.body as Record<string, unknown>).phones);
    const phones = typed.split(/[,\s]+/).filter(Boolean).slice(0, 10).map((p) => toE164(p));
    if (phones.length === 0 || phones.some((p) => !p)) {
      res.status(400);
      return detail(req, res, t(req, 'console.campaigns.bad_phones'));
    }
    try {
      const actor = (staffOf(res) as StaffContext).user._id;
      const sent = await deps.testSend({ campaignId: campaignIdOf(req), phones: phones as string[], actor, ip: req.ip ?? '' });
      res.redirect(303, `/console/campaigns/${campaignIdOf(req)}?tested=${sent.queued}&left_out=${sent.optedOut}`);
    } catch (err) {
      if (!(err instanceof TestSendLimited)) throw err;
      res.status(429).setHeader('retry-after', String(err.retryAfterSeconds));
      return detail(req, res, t(req, 'console.campaigns.test_limited', { minutes: String(Math.ceil(err.retryAfterSeconds / 60)) }));
    }
  });

  router.use('/console', consoleForbidden(deps.shell));
  return router;
}
