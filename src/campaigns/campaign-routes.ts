import { resolve } from 'node:path';
import type { Router } from 'express';
import { buildFlowSet } from '../flow-engine/flow';
import { readFlowFiles } from '../flow-engine/flow-files';
import { quizFlowsOf, resultQuestionsOf } from '../flow-engine/questions';
import type { Infrastructure } from '../safeline';
import { staffSurfaceOf } from '../staff/staff-surface';
import { createResultsStore } from '../results/results-store';
import { loadKeywords } from '../texts/sms-keywords';
import { loadTexts } from '../texts/texts';
import { registerCampaignApi } from './campaign-api';
import { campaignDepsOf } from './campaign-deps';
import { campaignPages } from './campaign-pages';
import { templateKeys as campaignTemplateKeys } from './campaign-templates';
import { createTestSends } from './test-send';

/** The campaign API on /api/v1 and the manager's console pages. */
export function campaignApiRouters(infra: Infrastructure): Router[] {
  const { api, shell, audit } = staffSurfaceOf(infra);
  const deps = campaignDepsOf(infra);
  const texts = loadTexts(resolve(infra.config.ussd.templatesDir));
  const templateKeys = campaignTemplateKeys(resolve(infra.config.ussd.templatesDir), texts.defaultLanguage);
  const testSend = createTestSends({
    redis: infra.redis.client,
    prefix: infra.config.queuePrefix,
    management: deps.management,
    optouts: deps.optouts,
    protection: deps.protection,
    audit,
  });
  // A poll's replies are checked against the inbound keywords (STOP always wins), its counts read from `results`.
  const polls = { keyword: loadKeywords(resolve(infra.config.ussd.templatesDir)), results: createResultsStore(infra.mongo.connection) };
  // The quizzes a campaign may name, for its before-and-after results (the USSD room checks the flows themselves).
  const { ussd } = infra.config;
  const quizFlows = quizFlowsOf(resultQuestionsOf(buildFlowSet(readFlowFiles(resolve(ussd.flowsDir)), ussd.entryFlow).set));
  registerCampaignApi(api, { ...deps, audit, texts, templateKeys, testSend, quizFlows, ...polls });
  return [campaignPages({ ...deps, shell, texts, audit, templateKeys, testSend, quizFlows, ...polls })];
}
