import type { FlowSet } from './flow';
import { FlowRuntimeError } from './nodes/action';
import { NODE_TYPES } from './registry';
import type { FlowEvent, FlowState, NodeBase, NodeEnv, NodeType, Position, Screen, StepContext, Target, TextRef, Vars } from './types';

export { FlowRuntimeError };

export interface StepResult {
  readonly screen: Screen;
  readonly state: FlowState;
  readonly events: readonly FlowEvent[];
}

/** Navigation inputs the engine understands on any interactive node (the ussd room adds paging). */
export interface NavigationKeys {
  readonly back: string;
  readonly home: string;
}

export interface EngineOptions {
  readonly navigation: NavigationKeys;
  /** Wrong inputs in a row before the session ends politely. */
  readonly maxWrongTries: number;
}

const MAX_HOPS = 64;
const MAX_HISTORY = 20;

function resolve(set: FlowSet, from: Position, target: Target): Position {
  if (typeof target === 'string') return { flow: from.flow, node: target };
  const flow = set.flows.get(target.flow);
  if (!flow) throw new FlowRuntimeError(`unknown flow "${target.flow}" from ${from.flow}/${from.node}`);
  return { flow: flow.id, node: target.node ?? flow.start };
}

function lookup(set: FlowSet, position: Position): { node: NodeBase; type: NodeType<NodeBase> } {
  const node = set.flows.get(position.flow)?.nodes.get(position.node);
  if (!node) throw new FlowRuntimeError(`unknown node ${position.flow}/${position.node}`);
  const type = NODE_TYPES.get(node.type);
  if (!type) throw new FlowRuntimeError(`unknown node type "${node.type}"`);
  return { node, type };
}

/**
 * Enters `position` and follows automatic nodes (actions, switches, gotos) until a node shows a
 * screen. Pure: returns the events for the caller to apply.
 */
function enter(set: FlowSet, base: FlowState, position: Position, context: StepContext, events: FlowEvent[], notice?: TextRef): StepResult {
  let vars: Vars = base.vars;
  let current = position;
  for (let hop = 0; hop < MAX_HOPS; hop += 1) {
    const { node, type } = lookup(set, current);
    const env: NodeEnv = { vars, context, position: current };
    const outcome = type.enter(node, env);
    if (outcome.kind === 'go') {
      if (outcome.setVars) vars = { ...vars, ...outcome.setVars };
      if (outcome.events) events.push(...outcome.events);
      current = resolve(set, current, outcome.target);
      continue;
    }
    const screen = notice ? { ...outcome.screen, notice } : outcome.screen;
    return { screen, events, state: { ...base, position: current, vars, ended: screen.end } };
  }
  throw new FlowRuntimeError(`more than ${MAX_HOPS} automatic steps from ${position.flow}/${position.node}: a loop without a screen`);
}

/**
 * The first screen of a session. `vars` carries what is known of the caller (language, profile). A session
 * dialled with a shortcut (*321*7#) starts in that shortcut's flow instead of the entry flow.
 */
export function startFlow(set: FlowSet, vars: Vars, context: StepContext, flowId = set.entry): StepResult {
  const entry = set.flows.get(flowId);
  if (!entry) throw new FlowRuntimeError(`the flow "${flowId}" a session starts in is not defined`);
  const position = { flow: entry.id, node: entry.start };
  const initial: FlowState = { position, vars, history: [], wrongTries: 0, ended: false };
  return enter(set, initial, position, context, []);
}

/** One input from the caller, on the node the state waits at. */
export function step(set: FlowSet, state: FlowState, input: string, context: StepContext, options: EngineOptions): StepResult {
  if (state.ended) throw new FlowRuntimeError('the session has ended');
  const { node, type } = lookup(set, state.position);
  const env: NodeEnv = { vars: state.vars, context, position: state.position };
  const outcome = type.input?.(node, input, env);
  if (!outcome) throw new FlowRuntimeError(`${state.position.flow}/${state.position.node} does not take input`);

  if (outcome.kind === 'invalid') {
    // Navigation keys are taken only where the node itself would not accept them.
    if (input === options.navigation.home) {
      const entry = set.flows.get(set.entry);
      if (!entry) throw new FlowRuntimeError(`the entry flow "${set.entry}" is not defined`);
      const home = { flow: entry.id, node: entry.start };
      return enter(set, { ...state, history: [], wrongTries: 0 }, home, context, []);
    }
    const previous = state.history.at(-1);
    if (input === options.navigation.back && previous) {
      return enter(set, { ...state, history: state.history.slice(0, -1), wrongTries: 0, position: previous }, previous, context, []);
    }
    const wrongTries = state.wrongTries + 1;
    if (wrongTries >= options.maxWrongTries) {
      return {
        screen: { end: true, body: [{ key: 'common.too_many_errors' }], options: [] },
        events: [],
        state: { ...state, wrongTries, ended: true },
      };
    }
    const again = enter(set, { ...state, wrongTries }, state.position, context, [], outcome.notice);
    return again;
  }

  const vars = outcome.setVars ? { ...state.vars, ...outcome.setVars } : state.vars;
  const next = resolve(set, state.position, outcome.target);
  const history = [...state.history, state.position].slice(-MAX_HISTORY);
  return enter(set, { ...state, vars, history, wrongTries: 0 }, next, context, [...(outcome.events ?? [])]);
}
