import type { FlowProblem, FlowSet } from './flow';
import { NODE_TYPES } from './registry';
import type { Position, Target } from './types';

const key = (position: Position): string => `${position.flow}/${position.node}`;

function resolveTarget(set: FlowSet, from: Position, target: Target): Position | string {
  if (typeof target === 'string') {
    return set.flows.get(from.flow)?.nodes.has(target) ? { flow: from.flow, node: target } : `goes to unknown node "${target}"`;
  }
  const flow = set.flows.get(target.flow);
  if (!flow) return `goes to unknown flow "${target.flow}"`;
  const node = target.node ?? flow.start;
  return flow.nodes.has(node) ? { flow: flow.id, node } : `goes to unknown node "${target.flow}/${node}"`;
}

/**
 * Structural problems of a flow set: references to nodes or flows that do not exist, nodes no
 * caller can reach from the entry, and dead ends (nodes from which no ending message can be reached).
 */
export function checkGraph(set: FlowSet): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const edges = new Map<string, Position[]>();
  const all: Position[] = [];
  for (const flow of set.flows.values()) {
    for (const node of flow.nodes.values()) {
      const position = { flow: flow.id, node: node.id };
      all.push(position);
      const type = NODE_TYPES.get(node.type);
      const next: Position[] = [];
      for (const target of type?.targets(node) ?? []) {
        const resolved = resolveTarget(set, position, target);
        if (typeof resolved === 'string') problems.push({ file: flow.file, flow: flow.id, node: node.id, message: resolved });
        else next.push(resolved);
      }
      edges.set(key(position), next);
    }
  }

  const entry = set.flows.get(set.entry);
  if (entry) {
    const reached = new Set<string>();
    // A shortcut's flow is an entry too: a caller may dial straight into it.
    const starts = [entry.id, ...set.shortcuts.values()].flatMap((id) => {
      const flow = set.flows.get(id);
      return flow ? [{ flow: flow.id, node: flow.start }] : [];
    });
    const queue: Position[] = starts;
    while (queue.length) {
      const position = queue.pop() as Position;
      if (reached.has(key(position))) continue;
      reached.add(key(position));
      queue.push(...(edges.get(key(position)) ?? []));
    }
    for (const position of all) {
      if (!reached.has(key(position))) {
        problems.push({
          file: set.flows.get(position.flow)?.file ?? '',
          flow: position.flow,
          node: position.node,
          message: 'unreachable: no path from the entry flow leads here',
        });
      }
    }
  }

  // A node is alive when some path from it reaches a node that ends the session.
  const alive = new Set(all.filter((position) => set.flows.get(position.flow)?.nodes.get(position.node)?.type === 'message').map(key));
  for (let changed = true; changed; ) {
    changed = false;
    for (const position of all) {
      if (alive.has(key(position))) continue;
      if ((edges.get(key(position)) ?? []).some((next) => alive.has(key(next)))) {
        alive.add(key(position));
        changed = true;
      }
    }
  }
  for (const position of all) {
    if (!alive.has(key(position))) {
      problems.push({
        file: set.flows.get(position.flow)?.file ?? '',
        flow: position.flow,
        node: position.node,
        message: 'dead end: no path from here ends the session',
      });
    }
  }
  return problems;
}
