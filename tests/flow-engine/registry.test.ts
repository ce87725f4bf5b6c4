import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFlow, step } from '../../src/flow-engine/engine';
import { ACTIONS, NODE_TYPES } from '../../src/flow-engine/registry';
import type { StepResult } from '../../src/flow-engine/engine';
import { loadFixtureFlows, readFixture, type FixtureStep } from './flow-fixtures';

const fixtures = join(__dirname, '../fixtures/flows');
const options = { navigation: { back: '0', home: '00' }, maxWrongTries: 3 };
/** A context whose codes come from a fixed list, so a step's result is reproducible. */
const CODES = ['K7M2QX', 'P3N8RT', 'W4H9CD'];
const contextOf = (sessionId: string) => {
  let taken = 0;
  return { sessionId, newReference: () => CODES[taken++ % CODES.length] ?? '' };
};

function run(path: string): void {
  const fixture = readFixture(path);
  const { set, problems } = loadFixtureFlows(fixture);
  expect(problems).toEqual([]);
  let result: StepResult | undefined;
  for (const scripted of fixture.steps ?? []) {
    const context = contextOf('fixture');
    result = scripted.input === null || !result ? startFlow(set, fixture.vars ?? {}, context) : step(set, result.state, scripted.input, context, options);
    assertStep(result, scripted);
  }
  expect(result).toBeDefined();
}

function assertStep(result: StepResult, scripted: FixtureStep): void {
  const { expect: wanted } = scripted;
  expect(result.screen.end).toBe(wanted.end);
  if (wanted.body) expect(result.screen.body.map((ref) => ref.key)).toEqual(wanted.body);
  if (wanted.options) expect(result.screen.options.map((option) => option.label.key)).toEqual(wanted.options);
  if (wanted.notice) expect(result.screen.notice?.key).toBe(wanted.notice);
  if (wanted.vars) expect(result.state.vars).toMatchObject(wanted.vars);
  if (wanted.ref) expect(result.state.vars.ref).toMatch(/^[2-9A-Z]{6}$/);
  if (scripted.events) {
    expect(result.events).toHaveLength(scripted.events.length);
    scripted.events.forEach((event, index) => expect(result.events[index]).toMatchObject(event));
  }
}

describe('the node and action registry', () => {
  it.each([...NODE_TYPES.keys()])('node type "%s" has a fixture that runs', (type) => {
    const path = join(fixtures, 'nodes', `${type}.yaml`);
    expect(existsSync(path)).toBe(true);
    run(path);
  });

  it.each([...ACTIONS.keys()])('action "%s" has a fixture that runs', (action) => {
    const path = join(fixtures, 'actions', `${action}.yaml`);
    expect(existsSync(path)).toBe(true);
    run(path);
  });

  it('has no fixture for a type that is not registered', () => {
    const names = (dir: string): string[] => readdirSync(join(fixtures, dir)).map((file) => file.replace(/\.yaml$/, ''));
    expect(names('nodes').filter((name) => !NODE_TYPES.has(name))).toEqual([]);
    expect(names('actions').filter((name) => !ACTIONS.has(name))).toEqual([]);
  });
});

describe('the engine', () => {
  it('ends the session politely after the third wrong input in a row', () => {
    const { set } = loadFixtureFlows(readFixture(join(fixtures, 'nodes/menu.yaml')));
    let result = startFlow(set, {}, contextOf('s'));
    result = step(set, result.state, '9', contextOf('s'), options);
    result = step(set, result.state, 'x', contextOf('s'), options);
    expect(result.screen.end).toBe(false);
    result = step(set, result.state, '', contextOf('s'), options);
    expect(result.screen).toEqual({ end: true, body: [{ key: 'common.too_many_errors' }], options: [] });
  });

  it('takes its reference code from the context, never from the session', () => {
    const { set } = loadFixtureFlows(readFixture(join(fixtures, 'actions/create_report.yaml')));
    const vars = { region: 'kayes' };
    const codes = ['K7M2QX', 'P3N8RT'];
    const context = { sessionId: 'ATUid_1', newReference: () => codes.shift() ?? '' };
    expect(startFlow(set, vars, context).state.vars.ref).toBe('K7M2QX');
    expect(startFlow(set, vars, context).state.vars.ref).toBe('P3N8RT');
  });

  it('does no I/O: the same state and input give the same result', () => {
    const { set } = loadFixtureFlows(readFixture(join(fixtures, 'nodes/action.yaml')));
    const first = startFlow(set, {}, contextOf('s'));
    expect(step(set, first.state, '1', contextOf('s'), options)).toEqual(step(set, first.state, '1', contextOf('s'), options));
  });
});
