import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { AppError } from '../platform/app-error';
import { allow, requireCsrf, staffOf, type StaffContext } from '../staff/access';
import { consoleForbidden } from '../staff/console-forbidden';
import type { ConsoleShell } from '../web/console-shell';
import { PostForm } from '../web/form';
import { Table } from '../web/table';
import { BREAKDOWNS, REGION_FILTERS } from './question-figures';
import { RESULTS_READERS, type ResultsApiDeps } from './results-api';
import { queueComparison } from './results-jobs';
import {
  BreakdownTable, CampaignGroupsTable, categoryLabel, OverallChart, percent, rateWithCounts, titleOf, valueLabel, type Labels,
} from './results-tables';
import { campaignView, questionList, questionOf, questionView, regionOf } from './results-views';

const CAMPAIGN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The results pages: the questions, one question's figures, one campaign's before and after. */
export function resultsPages(deps: ResultsApiDeps & { shell: ConsoleShell }): Router {
  const router = Router();
  const { shell } = deps;
  router.use('/console/results', express.urlencoded({ extended: false, limit: '2kb' }), requireCsrf());
  const labelsOf = (req: Request): Labels => ({
    say: (key, vars) => shell.t(req, key, vars), texts: deps.texts, lang: shell.languageOf(req),
  });
  const readers = allow({ roles: RESULTS_READERS }, { html: true });

  router.get('/console/results', readers, async (req, res) => {
    const labels = labelsOf(req);
    const { say } = labels;
    const questions = await questionList(deps);
    const compared = (await deps.quizCampaigns.list()).filter((campaign) => campaign.quizFlow);
    const columns = ['question', 'question_id', 'respondents', 'right_answers'].map((key) => say(`console.results.${key}`));
    shell.page(req, res, say('console.results.title'), (
      <>
        <h1>{say('console.results.title')}</h1>
        <p>{say('console.results.how_counted')}</p>
        <Table columns={columns}>
          {questions.map(({ question, respondents, correctRate }) => (
            <tr>
              <td><a href={`/console/results/${question.flow}/${question.result}`}>{titleOf(labels, question)}</a></td>
              <td>{question.flow}/{question.result}</td>
              <td>{String(respondents)}</td>
              <td>{question.correct === undefined ? '' : percent(correctRate)}</td>
            </tr>
          ))}
        </Table>
        <h2>{say('console.results.campaigns_title')}</h2>
        {compared.length === 0 ? <p>{say('console.results.no_campaigns')}</p> : (
          <ul>
            {compared.map((campaign) => (
              <li><a href={`/console/results/campaigns/${campaign.id}`}>{campaign.name}</a> ({campaign.quizFlow})</li>
            ))}
          </ul>
        )}
      </>
    ), staffOf(res));
  });

  const campaignPage = async (req: Request, res: Response): Promise<void> => {
    const staff = staffOf(res) as StaffContext;
    const labels = labelsOf(req);
    const { say } = labels;
    const id = String(req.params.id ?? '');
    if (!CAMPAIGN_ID.test(id)) throw AppError.notFound('No such campaign');
    const view = await campaignView(deps, id);
    const title = say('console.results.campaign_title', { name: view.campaign.name });
    shell.page(req, res, title, (
      <>
        <p><a href="/console/results">{say('console.results.title')}</a> · <a href={`/console/campaigns/${id}`}>{view.campaign.name}</a></p>
        <h1>{title}</h1>
        {typeof req.query.queued === 'string' ? <p role="status">{say('console.results.compare_queued')}</p> : null}
        <p>{say('console.results.groups_help')}</p>
        {view.questions.map(({ question, ...groups }) => (
          <section>
            <h2><a href={`/console/results/${question.flow}/${question.result}`}>{titleOf(labels, question)}</a></h2>
            <CampaignGroupsTable labels={labels} groups={groups} />
          </section>
        ))}
        <PostForm action={`/console/results/campaigns/${id}/compare`} csrfToken={staff.session.csrfToken}>
          <button>{say('console.results.compare_now')}</button>
        </PostForm>
      </>
    ), staff);
  };
  router.get('/console/results/campaigns/:id', readers, campaignPage);
  router.post('/console/results/campaigns/:id/compare', readers, async (req, res) => {
    const id = String(req.params.id ?? '');
    if (!CAMPAIGN_ID.test(id)) throw AppError.notFound('No such campaign');
    await queueComparison(deps.queues, (await campaignView(deps, id)).campaign.id);
    res.redirect(303, `/console/results/campaigns/${id}?queued=1`);
  });

  router.get('/console/results/:flow/:result', readers, async (req, res) => {
    const labels = labelsOf(req);
    const { say } = labels;
    const question = questionOf(deps, req.params.flow, req.params.result);
    const region = regionOf(req.query.region);
    const { figures, campaigns } = await questionView(deps, question, region);
    const { overall } = figures;
    const languages = deps.texts.languages;
    const csv = `/api/v1/results/${question.flow}/${question.result}.csv${region ? `?region=${region}` : ''}`;
    shell.page(req, res, titleOf(labels, question), (
      <>
        <p><a href="/console/results">{say('console.results.title')}</a></p>
        <h1>{titleOf(labels, question)}</h1>
        <p>
          {question.flow}/{question.result}
          {question.correct
            ? ` · ${say('console.results.correct_answer', { answer: categoryLabel(labels, question, question.correct) })}`
            : ''}
        </p>
        <form method="get" class="filters">
          <label>
            {say('console.results.by.region')}
            <select name="region">
              <option value="">{say('console.results.all_regions')}</option>
              {REGION_FILTERS.map((value) => (
                <option value={value} selected={value === region}>{valueLabel(labels, 'region', value, languages)}</option>
              ))}
            </select>
          </label>
          <button>{say('console.audit_filter')}</button>
        </form>
        <div class="cards">
          <div class="card"><div>{say('console.results.respondents')}</div><strong>{String(overall.respondents)}</strong></div>
          {question.correct ? (
            <div class="card">
              <div>{say('console.results.right_answers')}</div>
              <strong>{rateWithCounts(labels, overall.correct, overall.respondents, overall.correctRate)}</strong>
            </div>
          ) : null}
        </div>
        <OverallChart labels={labels} question={question} figures={figures} />
        <p>{say('console.results.how_counted')}</p>
        <p><a href={csv} download>{say('console.results.export_csv')}</a></p>
        {BREAKDOWNS.map((breakdown) => <BreakdownTable {...{ labels, question, figures, breakdown, languages }} />)}
        {question.correct ? (
          <section>
            <h2>{say('console.results.campaigns_title')}</h2>
            <p>{say('console.results.groups_help')}</p>
            {campaigns.length === 0 ? <p>{say('console.results.no_campaigns')}</p> : campaigns.map((groups) => (
              <>
                <h3><a href={`/console/results/campaigns/${groups.campaign}`}>{groups.name}</a></h3>
                <CampaignGroupsTable labels={labels} groups={groups} />
              </>
            ))}
          </section>
        ) : null}
      </>
    ), staffOf(res));
  });

  router.use('/console/results', consolePageError(shell));
  router.use('/console', consoleForbidden(deps.shell));
  return router;
}

/** A question or campaign that does not exist (404), a region that does not (400): a page saying so, not JSON. */
function consolePageError(shell: ConsoleShell): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (!(err instanceof AppError) || (err.status !== 404 && err.status !== 400)) return next(err);
    res.status(err.status);
    const back = <p><a href="/console/results">{shell.t(req, 'console.results.title')}</a></p>;
    shell.page(req, res, err.message, <><h1>{err.message}</h1>{back}</>, staffOf(res));
  };
}
