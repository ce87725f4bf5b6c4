import { readFlowFiles } from '../flow-engine/flow-files';
import { buildFlowSet, type FlowProblem, type FlowSet } from '../flow-engine/flow';
import { checkGraph } from '../flow-engine/graph-check';

export class FlowsInvalidError extends Error {
  constructor(readonly problems: readonly FlowProblem[]) {
    super(`flows are invalid:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'FlowsInvalidError';
  }
}

export function formatProblem(problem: FlowProblem): string {
  const where = [problem.file, problem.flow && problem.node ? `${problem.flow}/${problem.node}` : problem.flow].filter(Boolean).join(' ');
  return `${where}: ${problem.message}`;
}

// flow-engine reads the files: the results and campaigns rooms list a flow set's questions too.
export { readFlowFiles };

/** Loads and checks the structure of the flows; problems are returned, not thrown. */
export function loadFlows(dir: string, entry: string): { set: FlowSet; problems: FlowProblem[] } {
  const { set, problems } = buildFlowSet(readFlowFiles(dir), entry);
  return { set, problems: problems.length ? problems : checkGraph(set) };
}
