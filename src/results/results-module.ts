import { resolve } from 'node:path';
import { processWith } from '../platform/queues';
import type { Infrastructure, SafelineModule } from '../safeline';
import { staffSurfaceOf } from '../staff/staff-surface';
import { loadTexts } from '../texts/texts';
import { compareCampaign, type QuizCampaigns } from './campaign-comparison';
import { registerResultsApi } from './results-api';
import { resultsDepsOf } from './results-deps';
import {
  COMPARE_CAMPAIGN, COMPARE_CAMPAIGNS, COMPARE_EVERY_MS, COUNT_PENDING, COUNT_PENDING_EVERY_MS, resultsQueueOf,
} from './results-jobs';
import { resultsPages } from './results-pages';
import { countPending } from './result-figures';

const ONCE = { removeOnComplete: true, removeOnFail: true } as const;

/**
 * Results: the pages and API of the questions' figures, and the worker's comparisons and counts left for later.
 * The campaigns come from the campaigns room, which uses this one (SMS polls keep their replies in `results`).
 */
export const createResultsModule = (quizCampaignsOf: (infra: Infrastructure) => QuizCampaigns): SafelineModule => ({
  name: 'results',
  routers(infra) {
    const { api, shell, audit } = staffSurfaceOf(infra);
    const texts = loadTexts(resolve(infra.config.ussd.templatesDir));
    const deps = { ...resultsDepsOf(infra), quizCampaigns: quizCampaignsOf(infra), audit, texts, queues: infra.queues };
    registerResultsApi(api, deps);
    return [resultsPages({ ...deps, shell })];
  },
  startWorkers(infra) {
    const deps = { ...resultsDepsOf(infra), quizCampaigns: quizCampaignsOf(infra) };
    const queue = resultsQueueOf(infra.queues);
    const compare = (campaignId: string) => compareCampaign(deps, campaignId);
    void queue.process(COMPARE_CAMPAIGN, 1, processWith(async (job) => void (await compare(job.data.campaignId ?? ''))));
    void queue.process(COMPARE_CAMPAIGNS, 1, processWith(async () => {
      // One at a time: each reads every respondent of its quiz.
      for (const campaign of await deps.quizCampaigns.list()) if (campaign.quizFlow && campaign.runs.length) await compare(campaign.id);
    }));
    void queue.process(COUNT_PENDING, 1, processWith(async () => void (await countPending(deps.figures, deps.pending))));
    for (const [task, every] of [[COMPARE_CAMPAIGNS, COMPARE_EVERY_MS], [COUNT_PENDING, COUNT_PENDING_EVERY_MS]] as const) {
      void queue.add(task, { task }, { ...ONCE, jobId: `${task}-start` }).catch(() => undefined);
      void queue.add(task, { task }, { ...ONCE, repeat: { every } }).catch(() => undefined);
    }
  },
});
