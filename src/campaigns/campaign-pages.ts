import express, { Router, type Request, type Response } from 'express';
import { AppError } from '../platform/app-error';
import { toE164 } from '../shared/phone-number';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import { LIVE_HEAD, escapeHtml as escape, type ConsoleShell } from '../staff/console-shell';
import type { AuditLog } from '../staff/audit-log';
import type { Texts } from '../texts/texts';
import { TOPICS } from '../subscribers/topics';
import { campaignIdOf, campaignInput } from './campaign-api';
import type { CampaignDeps } from './campaign-deps';
import { TestSendLimited, type TestSend } from './test-send';
import { AXES, type Campaign } from './campaign-store';
import { textsFromTemplate } from './campaign-templates';
import { campaignPreviewFor, campaignViewOf } from './campaign-views';
import { funnelSvg } from './progress-chart';
import { waitingOf } from './run-progress';

const MANAGERS = ['campaign_manager', 'admin'] as const;
const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const list = (value: unknown): string[] => ([] as unknown[]).concat(value ?? []).filter((item): item is string => typeof item === 'string' && item !== '');
const num = (value: unknown): number | null => (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : null);

/** The manager's pages: campaigns, a form with a preview, and one campaign's live progress. */
export function campaignPages(deps: CampaignDeps & { shell: ConsoleShell; texts: Texts; audit: AuditLog; templateKeys: readonly string[]; testSend: TestSend }): Router {
  const router = Router();
  const page = deps.shell.page;
  const t = deps.shell.t;
  router.use('/console/campaigns', express.urlencoded({ extended: false, limit: '50kb' }), requireCsrf());
  const csrfField = (staff: StaffContext) => `<input type="hidden" name="_csrf" value="${escape(staff.session.csrfToken)}">`;

  router.get('/console/campaigns', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const staff = staffOf(res) as StaffContext;
    const campaigns = await Promise.all((await deps.campaigns.list()).map((campaign) => campaignViewOf(deps, campaign)));
    const rows = campaigns
      .map((c) => `<tr><td><a href="/console/campaigns/${c._id}">${escape(c.name)}</a></td><td>${t(req, `console.campaigns.status.${c.status}`)}</td><td>${t(req, `console.campaigns.axis.${c.axis}`)}</td><td>${c.progress.recipients}</td><td>${c.progress.sent}</td><td>${c.progress.delivered}</td><td>${c.progress.cost.toFixed(0)}</td></tr>`)
      .join('');
    page(req, res, t(req, 'console.campaigns.title'), `<h1>${t(req, 'console.campaigns.title')}</h1><p><a href="/console/campaigns/new">${t(req, 'console.campaigns.new')}</a></p>
<table><thead><tr><th scope="col">${t(req, 'console.campaigns.name')}</th><th scope="col">${t(req, 'console.campaigns.col_status')}</th><th scope="col">${t(req, 'console.campaigns.axis_label')}</th><th scope="col">${t(req, 'console.campaigns.recipients')}</th><th scope="col">${t(req, 'console.campaigns.sent')}</th><th scope="col">${t(req, 'console.campaigns.delivered')}</th><th scope="col">${t(req, 'console.campaigns.cost')}</th></tr></thead><tbody>${rows}</tbody></table>`, staff);
  });

  /** The form's fields as the API's input (the same validation). */
  const inputOf = (body: Record<string, unknown>) => {
    const texts: Record<string, string> = Object.fromEntries(deps.texts.languages.map((l): [string, string] => [l.code, str(body[`text_${l.code}`]).trim()]).filter(([, text]) => text !== ''));
    const kind = str(body.schedule_kind, 'now');
    const schedule = kind === 'at' ? { kind, at: `${str(body.schedule_at)}Z` } : kind === 'recurring' ? { kind, cron: str(body.schedule_cron) } : kind === 'relative' ? { kind, daysAfterJoin: num(body.schedule_days) ?? -1 } : { kind: 'now' };
    return campaignInput.safeParse({
      name: str(body.name),
      axis: str(body.axis),
      texts,
      asciiLanguages: list(body.ascii),
      audience: { languages: list(body.languages), regions: str(body.regions).split(',').map((r) => r.trim().toLowerCase()).filter(Boolean), topics: list(body.topics) },
      schedule,
      sendWindow: { from: str(body.window_from) || '08:00', to: str(body.window_to) || '20:00' },
      spread: { maxPerSecond: num(body.max_per_second), finishWithinHours: num(body.finish_within_hours) },
      budgetCap: num(body.budget_cap),
      senderId: typeof body.sender_id === 'string' && body.sender_id.trim() ? body.sender_id.trim() : null,
    });
  };

  const form = (req: Request, res: Response, body: Record<string, unknown>, extra = ''): void => {
    const staff = staffOf(res) as StaffContext;
    const v = (name: string, fallback = '') => escape(typeof body[name] === 'string' ? (body[name]) : fallback);
    const checked = (name: string, value: string) => (list(body[name]).includes(value) ? ' checked' : '');
    const languages = deps.texts.languages;
    page(req, res, t(req, 'console.campaigns.new'), `<h1>${t(req, 'console.campaigns.new')}</h1>${extra}
<form method="post" action="/console/campaigns">${csrfField(staff)}
<fieldset><legend>${t(req, 'console.campaigns.from_template')}</legend><label for="c-template">${t(req, 'console.campaigns.template')}</label><select id="c-template" name="template"><option value=""></option>${deps.templateKeys.map((key) => `<option value="${escape(key)}"${body.template === key ? ' selected' : ''}>${escape(key)}</option>`).join('')}</select>
<label for="c-hotline">{{hotline}}</label><input id="c-hotline" name="var_hotline" value="${v('var_hotline', '80 00 11 11')}"><label for="c-ussd">{{ussd_code}}</label><input id="c-ussd" name="var_ussd_code" value="${v('var_ussd_code', '*321#')}">
<button name="intent" value="template">${t(req, 'console.campaigns.use_template')}</button></fieldset>
<label for="c-name">${t(req, 'console.campaigns.name')}</label><input id="c-name" name="name" required maxlength="120" value="${v('name')}">
<label for="c-axis">${t(req, 'console.campaigns.axis_label')}</label><select id="c-axis" name="axis">${AXES.map((a) => `<option value="${a}"${body.axis === a ? ' selected' : ''}>${t(req, `console.campaigns.axis.${a}`)}</option>`).join('')}</select>
${languages.map((l) => `<label for="c-text-${l.code}">${t(req, 'console.campaigns.text_in', { language: l.name })}</label><textarea id="c-text-${l.code}" name="text_${l.code}" rows="3" maxlength="1000">${v(`text_${l.code}`)}</textarea>${l.asciiSpelling ? `<div class="inline-options"><label><input type="checkbox" name="ascii" value="${l.code}"${checked('ascii', l.code)}> ${t(req, 'console.campaigns.use_ascii')}</label></div>` : ''}`).join('')}
<fieldset><legend>${t(req, 'console.campaigns.audience')}</legend><div class="inline-options">${languages.map((l) => `<label><input type="checkbox" name="languages" value="${l.code}"${checked('languages', l.code)}> ${escape(l.name)}</label>`).join('')}</div>
<div class="inline-options">${TOPICS.map((topic) => `<label><input type="checkbox" name="topics" value="${topic}"${checked('topics', topic)}> ${topic}</label>`).join('')}</div>
<label for="c-regions">${t(req, 'console.campaigns.regions')}</label><input id="c-regions" name="regions" value="${v('regions')}"></fieldset>
<fieldset><legend>${t(req, 'console.campaigns.when')}</legend><div class="inline-options">${['now', 'at', 'recurring', 'relative'].map((kind) => `<label><input type="radio" name="schedule_kind" value="${kind}"${(body.schedule_kind ?? 'now') === kind ? ' checked' : ''}> ${t(req, `console.campaigns.schedule.${kind}`)}</label>`).join('')}</div>
<label for="c-at">${t(req, 'console.campaigns.at')}</label><input id="c-at" type="datetime-local" name="schedule_at" value="${v('schedule_at')}">
<label for="c-cron">${t(req, 'console.campaigns.cron')}</label><input id="c-cron" name="schedule_cron" placeholder="0 9 * * 1" value="${v('schedule_cron')}">
<label for="c-days">${t(req, 'console.campaigns.days_after_join')}</label><input id="c-days" type="number" min="0" name="schedule_days" value="${v('schedule_days')}"></fieldset>
<fieldset><legend>${t(req, 'console.campaigns.pace')}</legend><label for="c-from">${t(req, 'console.campaigns.window_from')}</label><input id="c-from" type="time" name="window_from" value="${v('window_from', '08:00')}">
<label for="c-to">${t(req, 'console.campaigns.window_to')}</label><input id="c-to" type="time" name="window_to" value="${v('window_to', '20:00')}">
<label for="c-rate">${t(req, 'console.campaigns.max_per_second')}</label><input id="c-rate" type="number" min="0" step="any" name="max_per_second" value="${v('max_per_second')}">
<label for="c-hours">${t(req, 'console.campaigns.finish_within')}</label><input id="c-hours" type="number" min="0" step="any" name="finish_within_hours" value="${v('finish_within_hours')}">
<label for="c-budget">${t(req, 'console.campaigns.budget_cap')}</label><input id="c-budget" type="number" min="0" name="budget_cap" value="${v('budget_cap')}">
<label for="c-sender">${t(req, 'console.campaigns.sender_id')}</label><input id="c-sender" name="sender_id" maxlength="15" value="${v('sender_id')}"></fieldset>
<button name="intent" value="preview">${t(req, 'console.campaigns.preview')}</button><button name="intent" value="create">${t(req, 'console.campaigns.create')}</button></form>`, staff);
  };

  router.get('/console/campaigns/new', allow({ roles: MANAGERS }, { html: true }), (req, res) => form(req, res, {}));

  router.post('/console/campaigns', allow({ roles: MANAGERS }, { html: true }), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    if (body.intent === 'template') {
      // Fills each language's text from the template, for the manager to read and adjust.
      try {
        const filled = textsFromTemplate(deps.texts, str(body.template), { hotline: str(body.var_hotline), ussd_code: str(body.var_ussd_code) });
        return form(req, res, { ...body, ...Object.fromEntries(Object.entries(filled).map(([language, text]) => [`text_${language}`, text])) });
      } catch (err) {
        res.status(400);
        return form(req, res, body, `<p class="error" role="alert">${escape((err as Error).message)}</p>`);
      }
    }
    const parsed = inputOf(body);
    if (!parsed.success) {
      res.status(400);
      return form(req, res, body, `<p class="error" role="alert">${escape(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))}</p>`);
    }
    if (body.intent === 'preview') {
      const preview = await campaignPreviewFor(deps, parsed.data.texts, parsed.data.audience);
      const row = (label: string, f: { text: string; characters: number; encoding: string; parts: number; cost: number; nonGsmCharacters: string[] }, recipients: number) =>
        `<tr><th scope="row">${label}</th><td>${escape(f.text)}</td><td>${f.characters}</td><td>${f.encoding}${f.nonGsmCharacters.length ? ` (${escape(f.nonGsmCharacters.join(' '))})` : ''}</td><td>${f.parts}</td><td>${recipients}</td><td>${f.cost.toFixed(0)}</td></tr>`;
      const table = `<h2>${t(req, 'console.campaigns.preview')}</h2><table><thead><tr><th scope="col"></th><th scope="col">${t(req, 'console.campaigns.text')}</th><th scope="col">${t(req, 'console.campaigns.characters')}</th><th scope="col">${t(req, 'console.campaigns.encoding')}</th><th scope="col">${t(req, 'console.campaigns.parts')}</th><th scope="col">${t(req, 'console.campaigns.recipients')}</th><th scope="col">${t(req, 'console.campaigns.cost')}</th></tr></thead><tbody>${preview.languages
        .map((l) => row(escape(l.language), l, l.recipients) + (l.ascii ? row(`${escape(l.language)} ASCII`, l.ascii, l.recipients) : ''))
        .join('')}</tbody></table><p>${t(req, 'console.campaigns.total', { recipients: String(preview.recipients), cost: preview.cost.toFixed(0) })}</p>`;
      const operatorName = (o: { route: string | null; operator: string }) =>
        o.route === null
          ? t(req, 'console.campaigns.no_route')
          : o.route === '' ? t(req, 'console.campaigns.operator_unknown') : escape(o.operator);
      // One route is every number: the split says nothing then.
      const operators = deps.routes.length < 2 ? '' : `<h3>${t(req, 'console.campaigns.by_operator')}</h3><table><thead><tr>` +
        `<th scope="col">${t(req, 'console.campaigns.operator')}</th><th scope="col">${t(req, 'console.campaigns.recipients')}</th>` +
        `<th scope="col">${t(req, 'console.campaigns.parts')}</th><th scope="col">${t(req, 'console.campaigns.cost')}</th>` +
        `</tr></thead><tbody>${preview.operators
        .map((o) =>
          `<tr><th scope="row">${operatorName(o)}</th><td>${o.recipients}</td><td>${o.parts}</td><td>${o.cost.toFixed(0)}</td></tr>`)
        .join('')}</tbody></table>`;
      return form(req, res, body, table + operators);
    }
    const staff = staffOf(res) as StaffContext;
    const campaign = await deps.management.create({ ...parsed.data, createdBy: staff.user._id });
    await deps.audit.append({ actor: staff.user._id, action: 'campaign.created', target: campaign._id, ip: req.ip ?? '' });
    res.redirect(303, `/console/campaigns/${campaign._id}`);
  });

  const progressHtml = async (req: Request, campaign: Campaign): Promise<string> => {
    const view = await campaignViewOf(deps, campaign);
    const p = view.progress;
    const counts = { ...p, queued: waitingOf(p) };
    // Failed to send (never sent) and failed delivery (sent, not delivered) apart: the first adds up with
    // sent to the recipients, the second is part of sent.
    const keys = (['recipients', 'queued', 'sent', 'delivered', 'failedDelivery', 'failed', 'optedOut', 'unknown', 'cancelled'] as const).filter((key) => counts[key] > 0 || !['unknown', 'cancelled'].includes(key));
    const label = { optedOut: 'opted_out', failedDelivery: 'failed_delivery' } as Partial<Record<(typeof keys)[number], string>>;
    const rows = keys.map((key) => ({ key, label: deps.shell.t(req, `console.campaigns.${label[key] ?? key}`), value: counts[key] }));
    return `<p>${t(req, 'console.campaigns.col_status')}: <strong>${t(req, `console.campaigns.status.${view.status}`)}</strong>${view.stoppedReason ? ` - <span class="error">${escape(view.stoppedReason)}</span>` : ''}</p>
${funnelSvg(rows, deps.shell.t(req, 'console.campaigns.progress'))}<p>${t(req, 'console.campaigns.cost_so_far', { cost: p.cost.toFixed(0) })}</p>`;
  };
  const campaignOf = async (req: Request): Promise<Campaign> => {
    const campaign = await deps.campaigns.get(campaignIdOf(req));
    if (!campaign) throw AppError.notFound('No such campaign');
    return campaign;
  };

  router.get('/console/campaigns/:id/progress', allow({ roles: MANAGERS }), async (req, res) => {
    res.type('html').set('cache-control', 'no-store').send(await progressHtml(req, await campaignOf(req)));
  });

  // After a test send: how many went, and how many numbers were left out because they opted out.
  const testNotice = (req: Request): string => {
    if (typeof req.query.tested !== 'string') return '';
    const leftOut = Number(req.query.left_out) || 0;
    return `<p role="status">${t(req, 'console.campaigns.test_queued', { count: String(Number(req.query.tested) || 0) })}${leftOut ? ` ${t(req, 'console.campaigns.test_left_out', { count: String(leftOut) })}` : ''}</p>`;
  };
  const detail = async (req: Request, res: Response, error?: string): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const campaign = await campaignOf(req);
    const action = (name: string) => `<form class="inline-options" method="post" action="/console/campaigns/${campaign._id}/${name}">${csrfField(staff)}<button>${t(req, `console.campaigns.action.${name}`)}</button></form>`;
    const actions = { draft: ['schedule', 'cancel'], scheduled: ['pause', 'cancel'], running: ['pause', 'cancel'], paused: ['resume', 'cancel'], completed: [], cancelled: [] }[campaign.status];
    page(req, res, campaign.name, `<p><a href="/console/campaigns">${t(req, 'console.campaigns.title')}</a></p><h1>${escape(campaign.name)}</h1>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}${testNotice(req)}<div data-live-src="/console/campaigns/${campaign._id}/progress" data-live-every="2000">${await progressHtml(req, campaign)}</div><p><span id="live-updated" aria-live="polite"></span></p>
${actions.map(action).join('')}
<h2>${t(req, 'console.campaigns.texts')}</h2><dl>${Object.entries(campaign.texts).map(([language, text]) => `<dt>${escape(language)}${campaign.asciiLanguages.includes(language) ? ' (ASCII)' : ''}</dt><dd>${escape(text)}</dd>`).join('')}</dl>
<form method="post" action="/console/campaigns/${campaign._id}/test">${csrfField(staff)}<label for="t-phones">${t(req, 'console.campaigns.test_phones')}</label><input id="t-phones" name="phones" required><button>${t(req, 'console.campaigns.test_send')}</button></form>
<p><a href="/api/v1/campaigns/${campaign._id}/report.csv" download>${t(req, 'console.campaigns.report_csv')}</a></p>`, staff, LIVE_HEAD(10));
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
    const phones = str((req.body as Record<string, unknown>).phones).split(/[,\s]+/).filter(Boolean).slice(0, 10).map((p) => toE164(p));
    if (phones.length === 0 || phones.some((p) => !p)) {
      res.status(400);
      return detail(req, res, deps.shell.t(req, 'console.campaigns.bad_phones'));
    }
    try {
      const sent = await deps.testSend({ campaignId: campaignIdOf(req), phones: phones as string[], actor: (staffOf(res) as StaffContext).user._id, ip: req.ip ?? '' });
      res.redirect(303, `/console/campaigns/${campaignIdOf(req)}?tested=${sent.queued}&left_out=${sent.optedOut}`);
    } catch (err) {
      if (!(err instanceof TestSendLimited)) throw err;
      res.status(429).setHeader('retry-after', String(err.retryAfterSeconds));
      return detail(req, res, deps.shell.t(req, 'console.campaigns.test_limited', { minutes: String(Math.ceil(err.retryAfterSeconds / 60)) }));
    }
  });

  router.use('/console', deps.shell.forbidden);
  return router;
}
