import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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

/** Reads every *.yaml under dir (not recursive), as { file, text } with paths relative to cwd. */
export function readFlowFiles(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => ({ file: relative(process.cwd(), join(dir, name)) || name, text: readFileSync(join(dir, name), 'utf8') }));
}

/** Loads and checks the structure of the flows; problems are returned, not thrown. */
export function loadFlows(dir: string, entry: string): { set: FlowSet; problems: FlowProblem[] } {
  const { set, problems } = buildFlowSet(readFlowFiles(dir), entry);
  return { set, problems: problems.length ? problems : checkGraph(set) };
}
