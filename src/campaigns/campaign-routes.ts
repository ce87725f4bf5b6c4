import { resolve } from 'node:path';
import type { Router } from 'express';
import type { Infrastructure } from '../safeline';
import { staffSurfaceOf } from '../staff/staff-surface';
import { loadTexts } from '../texts/texts';
import { registerCampaignApi } from './campaign-api';
import { campaignDepsOf } from './campaign-deps';
import { campaignPages } from './campaign-pages';
import { templateKeys as campaignTemplateKeys } from './campaign-templates';

/** The campaign API on /api/v1 and the manager's console pages. */
export function campaignApiRouters(infra: Infrastructure): Router[] {
  const { api, shell, audit } = staffSurfaceOf(infra);
  const deps = campaignDepsOf(infra);
  const texts = loadTexts(resolve(infra.config.ussd.templatesDir));
  const templateKeys = campaignTemplateKeys(resolve(infra.config.ussd.templatesDir), texts.defaultLanguage);
  registerCampaignApi(api, { ...deps, audit, texts, templateKeys });
  return [campaignPages({ ...deps, shell, texts, audit, templateKeys })];
}
