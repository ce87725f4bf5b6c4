import type { CampaignDeps } from './campaign-deps';
import { routeFor } from '../gateway/route-table';
import { previewCampaign, type AudienceRoute } from './campaign-preview';
import type { Campaign } from './campaign-store';
import { OTHER, pollFlowOf } from './campaign-poll';
import type { ResultsStore } from '../results/results-store';
import type { AudienceFilter } from '../subscribers/subscriber-store';
import { noProgress } from './run-progress';

/**
 * A campaign as the API and the console show it: its fields and the counts of each run, live from
 * Redis, or from MongoDB once a run's report period is over and its live counters are gone.
 */
export async function campaignViewOf(deps: Pick<CampaignDeps, 'progress' | 'messages'>, campaign: Campaign) {
  const live = await Promise.all(campaign.runs.map((run) => deps.progress.live(run)));
  const kept = await deps.messages.runFigures(campaign.runs.filter((_, i) => !live[i]));
  const runs = campaign.runs.map((run, i) => ({ run, ...(live[i] ?? kept.get(run) ?? noProgress()) }));
  const total = runs.reduce(
    (sum, run) => ({
      recipients: sum.recipients + run.recipients,
      sent: sum.sent + run.sent,
      delivered: sum.delivered + run.delivered,
      failedDelivery: sum.failedDelivery + (run.failedDelivery ?? 0),
      failed: sum.failed + run.failed,
      optedOut: sum.optedOut + run.optedOut,
      unknown: sum.unknown + run.unknown,
      cancelled: sum.cancelled + run.cancelled,
      cost: sum.cost + run.costMilli / 1_000,
    }),
    { recipients: 0, sent: 0, delivered: 0, failedDelivery: 0, failed: 0, optedOut: 0, unknown: 0, cancelled: 0, cost: 0 },
  );
  return { ...campaign, progress: total, runs };
}

/**
 * The preview with the audience counted now, per language and number block on the database's side (no number is
 * opened, whatever the audience's size); each block is then given its route.
 */
export async function campaignPreviewFor(
  deps: Pick<CampaignDeps, 'subscribers' | 'routes'> & { texts: { languages: ReadonlyArray<{ code: string; asciiSpelling: boolean }> } },
  texts: Record<string, string>,
  audience: AudienceFilter,
) {
  const languages = Object.keys(texts);
  const counts = await deps.subscribers.countAudienceByBlock({
    ...audience,
    languages: audience.languages?.length ? audience.languages.filter((l) => languages.includes(l)) : languages,
  });
  const only = deps.routes.length === 1 ? deps.routes[0] : undefined;
  const routeOf = (block: string): AudienceRoute => only ?? (block ? (routeFor(deps.routes, block) ?? 'none') : 'unknown');
  const routed = counts.map((row) => ({ language: row.language, route: routeOf(row.block), recipients: row.count }));
  return previewCampaign({
    texts,
    audience: routed,
    asciiOption: deps.texts.languages.filter((l) => l.asciiSpelling).map((l) => l.code),
    routes: deps.routes,
  });
}

/** A poll campaign's replies per category (each category, and "other", even at 0); null for a campaign that asks nothing. */
export async function pollCountsOf(results: Pick<ResultsStore, 'tally'>, campaign: Campaign): Promise<Record<string, number> | null> {
  if (!campaign.poll) return null;
  const names = [...campaign.poll.categories.map((category) => category.name), OTHER];
  const counts: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (const row of await results.tally(pollFlowOf(campaign._id), campaign.poll.result)) counts[row.category] = row.answers;
  return counts;
}
