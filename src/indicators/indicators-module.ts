import { createCampaignStore } from '../campaigns/campaign-store';
import { createMessageStore } from '../campaigns/message-store';
import { createHotlineStore } from '../hotline/hotline-store';
import { createRespondentProfiles } from '../results/respondent-profiles';
import { createResultsStore } from '../results/results-store';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { staffSurfaceOf } from '../staff/staff-surface';
import { createSubscriberStore } from '../subscribers/subscriber-store';
import { createSessionEventsStore } from '../ussd/session-events-store';
import { registerIndicatorApi, type IndicatorDeps } from './indicator-api';
import { indicatorPages } from './indicator-pages';

const now = (): Date => new Date();

/** The action plan's indicators (page, print view, CSV/JSON) and the HTCDS case-report export: reads only. */
export const indicatorsModule: SafelineModule = {
  name: 'indicators',
  routers(infra) {
    const { api, shell, audit } = staffSurfaceOf(infra);
    const connection = infra.mongo.connection;
    const deps: IndicatorDeps = {
      sources: {
        campaigns: createCampaignStore(connection),
        messages: createMessageStore(connection),
        hotline: createHotlineStore(connection),
        results: createResultsStore(connection),
        profiles: createRespondentProfiles(connection),
        subscribers: createSubscriberStore(connection),
        sessions: createSessionEventsStore(connection, createPhoneProtection(infra.config.secrets), now),
      },
      audit,
      now,
    };
    registerIndicatorApi(api, deps);
    return [indicatorPages({ ...deps, shell })];
  },
};
