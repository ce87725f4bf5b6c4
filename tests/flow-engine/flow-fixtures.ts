import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { buildFlowSet, type FlowProblem, type FlowSet } from '../../src/flow-engine/flow';
import { checkGraph } from '../../src/flow-engine/graph-check';

export interface FixtureStep {
  input: string | null;
  expect: { end: boolean; body?: string[]; options?: string[]; notice?: string; vars?: Record<string, string>; ref?: boolean };
  events?: Array<Record<string, unknown>>;
}

export interface Fixture {
  flows: unknown[];
  vars?: Record<string, string>;
  steps?: FixtureStep[];
  /** From the file's "# expect: ..." line, for broken flows. */
  expectedError?: string;
}

export function readFixture(path: string): Fixture {
  const text = readFileSync(path, 'utf8');
  const fixture = parse(text) as Fixture;
  const expected = /^# expect: (.+)$/m.exec(text)?.[1];
  return expected ? { ...fixture, expectedError: expected } : fixture;
}

/** Loads a fixture's flows as if each were a file in flows/, then checks their structure. */
export function loadFixtureFlows(fixture: Fixture): { set: FlowSet; problems: FlowProblem[] } {
  const files = fixture.flows.map((flow, index) => ({ file: `fixture-${index}.yaml`, text: stringify(flow) }));
  const { set, problems } = buildFlowSet(files, 'main');
  return { set, problems: problems.length ? problems : checkGraph(set) };
}
