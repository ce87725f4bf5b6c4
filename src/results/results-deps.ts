import { resolve } from 'node:path';
import { buildFlowSet } from '../flow-engine/flow';
import { readFlowFiles } from '../flow-engine/flow-files';
import { resultQuestionsOf, type ResultQuestion } from '../flow-engine/questions';
import { createLocks } from '../platform/redis-lock';
import type { Infrastructure } from '../safeline';
import { createComparisons } from './campaign-comparison';
import { createPendingCounts } from './pending-counts';
import { createRespondentProfiles } from './respondent-profiles';
import { createResultCounts } from './result-counts';
import { countedStores, createResultFigures } from './result-figures';
import { createResultsStore } from './results-store';

/** The questions of the flows that record results (the USSD room refuses to start on broken flows, so none here). */
export function resultQuestionsIn(config: Infrastructure['config']): ResultQuestion[] {
  const { flowsDir, entryFlow } = config.ussd;
  return resultQuestionsOf(buildFlowSet(readFlowFiles(resolve(flowsDir)), entryFlow).set);
}

/** Everything the results room needs in one process, built once per process. */
const built = new WeakMap<Infrastructure, ReturnType<typeof build>>();
export function resultsDepsOf(infra: Infrastructure) {
  const existing = built.get(infra);
  if (existing) return existing;
  const deps = build(infra);
  built.set(infra, deps);
  return deps;
}

function build(infra: Infrastructure) {
  const { connection } = infra.mongo;
  const questions = resultQuestionsIn(infra.config);
  const counts = createResultCounts(connection, createLocks(infra.redis.client, infra.config.queuePrefix));
  const profiles = createRespondentProfiles(connection);
  const results = createResultsStore(connection);
  const figures = createResultFigures({ counts, profiles, questions });
  const pending = createPendingCounts(connection);
  return {
    questions,
    counts,
    figures,
    pending,
    comparisons: createComparisons(connection),
    /** What the USSD worker writes answers and profiles with: the questions' counts follow each write. */
    counted: countedStores({ results, profiles }, figures, pending, () => infra.redis.client.status === 'ready', infra.logger),
    now: () => new Date(),
  };
}

export type ResultsDeps = ReturnType<typeof resultsDepsOf>;
