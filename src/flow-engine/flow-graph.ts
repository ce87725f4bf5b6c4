import type { FlowSet } from './flow';
import { NODE_TYPES } from './registry';

export interface GraphNode {
  readonly id: string; // "flow/node"
  readonly flow: string;
  readonly node: string;
  readonly type: string;
  /** The first text key it shows, if any, for a translated caption. */
  readonly textKey?: string;
  readonly isStart: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

/** The nodes and transitions of every flow, for drawing; pure. Unknown targets are left out. */
export function flowGraph(set: FlowSet): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  for (const flow of set.flows.values()) {
    for (const node of flow.nodes.values()) {
      const type = NODE_TYPES.get(node.type);
      if (!type) continue;
      nodes.push({
        id: `${flow.id}/${node.id}`,
        flow: flow.id,
        node: node.id,
        type: node.type,
        textKey: type.textKeys(node)[0],
        isStart: flow.start === node.id,
      });
      const labels = type.edgeLabels?.(node) ?? [];
      type.targets(node).forEach((target, index) => {
        const to =
          typeof target === 'string' ? `${flow.id}/${target}` : `${target.flow}/${target.node ?? set.flows.get(target.flow)?.start ?? ''}`;
        if (nodes.length && (set.flows.get(to.split('/')[0] ?? '')?.nodes.has(to.split('/')[1] ?? '') ?? false)) {
          edges.push({ from: `${flow.id}/${node.id}`, to, label: labels[index] ?? '' });
        }
      });
    }
  }
  return { nodes, edges };
}
