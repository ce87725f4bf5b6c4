import type { ComponentChildren } from 'preact';
import type { Language } from '../texts/texts';
import { TOPICS } from '../subscribers/topics';
import { PostForm } from '../web/form';
import { Table } from '../web/table';
import { AXES } from './campaign-store';
import type { campaignPreviewFor } from './campaign-views';

/** A text of the console in the request's language (ConsoleShell.t with the request bound). */
export type Translate = (key: string, vars?: Record<string, string>) => string;

export const listOf = (value: unknown): string[] =>
  ([] as unknown[]).concat(value ?? []).filter((item): item is string => typeof item === 'string' && item !== '');

const SCHEDULE_KINDS = ['now', 'at', 'recurring', 'relative'] as const;
/** Rows of categories the form offers a poll (the API takes up to 9). */
const POLL_ROWS = [0, 1, 2, 3] as const;
const field = (body: Record<string, unknown>, name: string): string => (typeof body[name] === 'string' ? body[name].trim() : '');

/** The form's poll fields as the API's `poll` (null when none is filled in): replies comma-separated per language. */
export function pollFromForm(body: Record<string, unknown>, languages: readonly Language[]) {
  const categories = POLL_ROWS.map((row) => ({
    name: field(body, `poll_${row}_name`).toLowerCase(),
    replies: Object.fromEntries(
      languages
        .map((l): [string, string[]] => [l.code, field(body, `poll_${row}_${l.code}`).split(',').map((w) => w.trim()).filter(Boolean)])
        .filter(([, words]) => words.length > 0),
    ),
  })).filter((category) => category.name !== '' || Object.keys(category.replies).length > 0);
  const result = field(body, 'poll_result');
  if (result === '' && categories.length === 0) return null;
  const hours = Number(field(body, 'poll_window_hours') || '72');
  return { result, categories, windowHours: Number.isFinite(hours) ? hours : -1 };
}

/** A poll: what it measures, how long replies count, and up to four categories with their replies per language. */
function PollFields(props: { t: Translate; body: Record<string, unknown>; languages: readonly Language[] }) {
  const { t, body, languages } = props;
  const c = (key: string, vars?: Record<string, string>): string => t(`console.campaigns.${key}`, vars);
  return (
    <fieldset>
      <legend>{c('poll')}</legend>
      <p>{c('poll_help')}</p>
      <label for="c-poll-result">{c('poll_result')}</label>
      <input id="c-poll-result" name="poll_result" placeholder="knows_hotline" maxlength={40} value={field(body, 'poll_result')} />
      <label for="c-poll-window">{c('poll_window_hours')}</label>
      <input id="c-poll-window" type="number" min="0" step="any" name="poll_window_hours"
        value={field(body, 'poll_window_hours') || '72'} />
      <Table columns={[c('poll_category'), ...languages.map((l) => l.name)]}>
        {POLL_ROWS.map((row) => (
          <tr>
            <td>
              <input
                name={`poll_${row}_name`}
                aria-label={c('poll_category_n', { n: String(row + 1) })}
                value={field(body, `poll_${row}_name`)}
              />
            </td>
            {languages.map((l) => (
              <td>
                <input
                  name={`poll_${row}_${l.code}`}
                  aria-label={c('poll_replies_n', { n: String(row + 1), language: l.name })}
                  value={field(body, `poll_${row}_${l.code}`)}
                />
              </td>
            ))}
          </tr>
        ))}
      </Table>
    </fieldset>
  );
}

/** A checkbox (or a radio button) with its label after it. */
function Option(props: { type?: 'checkbox' | 'radio'; name: string; value: string; checked: boolean; children: ComponentChildren }) {
  return (
    <label>
      <input type={props.type ?? 'checkbox'} name={props.name} value={props.value} checked={props.checked} /> {props.children}
    </label>
  );
}

/**
 * The new campaign form, filled with what was posted (after a preview, a template, a refusal).
 * `extra` goes above the form: an error, or the preview's tables.
 */
export function CampaignForm(props: {
  t: Translate;
  body: Record<string, unknown>;
  languages: readonly Language[];
  templateKeys: readonly string[];
  quizFlows: readonly string[];
  csrfToken: string;
  extra?: ComponentChildren;
}) {
  const { t, body, languages } = props;
  const v = (name: string, fallback = ''): string => (typeof body[name] === 'string' ? body[name] : fallback);
  const checked = (name: string, value: string): boolean => listOf(body[name]).includes(value);
  return (
    <>
      <h1>{t('console.campaigns.new')}</h1>
      {props.extra}
      <PostForm action="/console/campaigns" csrfToken={props.csrfToken}>
        <fieldset>
          <legend>{t('console.campaigns.from_template')}</legend>
          <label for="c-template">{t('console.campaigns.template')}</label>
          <select id="c-template" name="template">
            <option value=""></option>
            {props.templateKeys.map((key) => <option value={key} selected={body.template === key}>{key}</option>)}
          </select>
          <label for="c-hotline">{'{{hotline}}'}</label>
          <input id="c-hotline" name="var_hotline" value={v('var_hotline', '80 00 11 11')} />
          <label for="c-ussd">{'{{ussd_code}}'}</label>
          <input id="c-ussd" name="var_ussd_code" value={v('var_ussd_code', '*321#')} />
          <button name="intent" value="template">{t('console.campaigns.use_template')}</button>
        </fieldset>
        <label for="c-name">{t('console.campaigns.name')}</label>
        <input id="c-name" name="name" required maxlength={120} value={v('name')} />
        <label for="c-axis">{t('console.campaigns.axis_label')}</label>
        <select id="c-axis" name="axis">
          {AXES.map((axis) => <option value={axis} selected={body.axis === axis}>{t(`console.campaigns.axis.${axis}`)}</option>)}
        </select>
        {languages.map((l) => (
          <>
            <label for={`c-text-${l.code}`}>{t('console.campaigns.text_in', { language: l.name })}</label>
            <textarea id={`c-text-${l.code}`} name={`text_${l.code}`} rows={3} maxlength={1000}>{v(`text_${l.code}`)}</textarea>
            {l.asciiSpelling ? (
              <div class="inline-options">
                <Option name="ascii" value={l.code} checked={checked('ascii', l.code)}>{t('console.campaigns.use_ascii')}</Option>
              </div>
            ) : null}
          </>
        ))}
        <fieldset>
          <legend>{t('console.campaigns.audience')}</legend>
          <div class="inline-options">
            {languages.map((l) => <Option name="languages" value={l.code} checked={checked('languages', l.code)}>{l.name}</Option>)}
          </div>
          <div class="inline-options">
            {TOPICS.map((topic) => <Option name="topics" value={topic} checked={checked('topics', topic)}>{topic}</Option>)}
          </div>
          <label for="c-regions">{t('console.campaigns.regions')}</label>
          <input id="c-regions" name="regions" value={v('regions')} />
        </fieldset>
        <fieldset>
          <legend>{t('console.campaigns.when')}</legend>
          <div class="inline-options">
            {SCHEDULE_KINDS.map((kind) => (
              <Option type="radio" name="schedule_kind" value={kind} checked={(body.schedule_kind ?? 'now') === kind}>
                {t(`console.campaigns.schedule.${kind}`)}
              </Option>
            ))}
          </div>
          <label for="c-at">{t('console.campaigns.at')}</label>
          <input id="c-at" type="datetime-local" name="schedule_at" value={v('schedule_at')} />
          <label for="c-cron">{t('console.campaigns.cron')}</label>
          <input id="c-cron" name="schedule_cron" placeholder="0 9 * * 1" value={v('schedule_cron')} />
          <label for="c-days">{t('console.campaigns.days_after_join')}</label>
          <input id="c-days" type="number" min="0" name="schedule_days" value={v('schedule_days')} />
        </fieldset>
        <fieldset>
          <legend>{t('console.campaigns.pace')}</legend>
          <label for="c-from">{t('console.campaigns.window_from')}</label>
          <input id="c-from" type="time" name="window_from" value={v('window_from', '08:00')} />
          <label for="c-to">{t('console.campaigns.window_to')}</label>
          <input id="c-to" type="time" name="window_to" value={v('window_to', '20:00')} />
          <label for="c-rate">{t('console.campaigns.max_per_second')}</label>
          <input id="c-rate" type="number" min="0" step="any" name="max_per_second" value={v('max_per_second')} />
          <label for="c-hours">{t('console.campaigns.finish_within')}</label>
          <input id="c-hours" type="number" min="0" step="any" name="finish_within_hours" value={v('finish_within_hours')} />
          <label for="c-budget">{t('console.campaigns.budget_cap')}</label>
          <input id="c-budget" type="number" min="0" name="budget_cap" value={v('budget_cap')} />
          <label for="c-sender">{t('console.campaigns.sender_id')}</label>
          <input id="c-sender" name="sender_id" maxlength={15} value={v('sender_id')} />
          <label for="c-partner">{t('console.campaigns.partner')}</label>
          <input id="c-partner" name="partner" maxlength={80} value={v('partner')} />
        </fieldset>
        <label for="c-quiz">{t('console.campaigns.quiz_flow')}</label>
        <select id="c-quiz" name="quiz_flow">
          <option value="">{t('console.campaigns.no_quiz')}</option>
          {props.quizFlows.map((flow) => <option value={flow} selected={body.quiz_flow === flow}>{flow}</option>)}
        </select>
        <PollFields t={t} body={body} languages={languages} />
        <button name="intent" value="preview">{t('console.campaigns.preview')}</button>
        <button name="intent" value="create">{t('console.campaigns.create')}</button>
      </PostForm>
    </>
  );
}

type Preview = Awaited<ReturnType<typeof campaignPreviewFor>>;
type PreviewFigures = { text: string; characters: number; encoding: string; parts: number; cost: number; nonGsmCharacters: string[] };

function PreviewRow(props: { label: string; figures: PreviewFigures; recipients: number }) {
  const f = props.figures;
  return (
    <tr>
      <th scope="row">{props.label}</th><td>{f.text}</td><td>{f.characters}</td>
      <td>{f.encoding}{f.nonGsmCharacters.length ? ` (${f.nonGsmCharacters.join(' ')})` : ''}</td>
      <td>{f.parts}</td><td>{props.recipients}</td><td>{f.cost.toFixed(0)}</td>
    </tr>
  );
}

/** What each language's text costs (and its ASCII spelling's), in total, and per operator when there are several routes. */
export function CampaignPreview(props: { t: Translate; preview: Preview; routeCount: number }) {
  const { t, preview } = props;
  const c = (key: string): string => t(`console.campaigns.${key}`);
  const operatorName = (o: { route: string | null; operator: string }): string =>
    o.route === null ? c('no_route') : o.route === '' ? c('operator_unknown') : o.operator;
  return (
    <>
      <h2>{c('preview')}</h2>
      <Table columns={['', c('text'), c('characters'), c('encoding'), c('parts'), c('recipients'), c('cost')]}>
        {preview.languages.map((l) => (
          <>
            <PreviewRow label={l.language} figures={l} recipients={l.recipients} />
            {l.ascii ? <PreviewRow label={`${l.language} ASCII`} figures={l.ascii} recipients={l.recipients} /> : null}
          </>
        ))}
      </Table>
      <p>{t('console.campaigns.total', { recipients: String(preview.recipients), cost: preview.cost.toFixed(0) })}</p>
      {/* One route is every number: the split says nothing then. */}
      {props.routeCount < 2 ? null : (
        <>
          <h3>{c('by_operator')}</h3>
          <Table columns={[c('operator'), c('recipients'), c('parts'), c('cost')]}>
            {preview.operators.map((o) => (
              <tr><th scope="row">{operatorName(o)}</th><td>{o.recipients}</td><td>{o.parts}</td><td>{o.cost.toFixed(0)}</td></tr>
            ))}
          </Table>
        </>
      )}
    </>
  );
}
