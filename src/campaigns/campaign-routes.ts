import { resolve } from 'node:path';
import type { Router } from 'express';
import type { Infrastructure } from '../safeline';
import { staffSurfaceOf } from '../staff/staff-surface';
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
  registerCampaignApi(api, { ...deps, audit, texts, templateKeys, testSend });
  return [campaignPages({ ...deps, shell, texts, audit, templateKeys, testSend })];
}
