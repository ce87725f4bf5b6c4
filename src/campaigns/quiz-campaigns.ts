import type { QuizCampaign, QuizCampaigns } from '../results/campaign-comparison';
import type { Infrastructure } from '../safeline';
import { createCampaignStore, type Campaign } from './campaign-store';
import { createMessageStore } from './message-store';

const asQuizCampaign = (campaign: Campaign): QuizCampaign => ({
  id: campaign._id, name: campaign.name, quizFlow: campaign.quizFlow, runs: campaign.runs,
});

/** The campaigns as the results room compares them with a quiz: who they reached, and when. */
export function quizCampaignsOf(infra: Infrastructure): QuizCampaigns {
  const campaigns = createCampaignStore(infra.mongo.connection);
  const messages = createMessageStore(infra.mongo.connection);
  return {
    list: async () => (await campaigns.list()).map(asQuizCampaign),
    async get(id) {
      const campaign = await campaigns.get(id);
      return campaign ? asQuizCampaign(campaign) : undefined;
    },
    async reachOf(campaign) {
      const reach = new Map<string, number>();
      for (const run of campaign.runs) {
        for (const sent of await messages.resultsOfRun(run)) {
          if (sent.outcome !== 'accepted') continue;
          const at = new Date(sent.at).getTime();
          const known = reach.get(sent.subscriber);
          if (known === undefined || at < known) reach.set(sent.subscriber, at);
        }
      }
      return reach;
    },
  };
}
