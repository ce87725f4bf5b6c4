import { z } from 'zod';
import type { NodeType } from '../types';

export interface GotoNode {
  readonly type: 'goto';
  readonly id: string;
  readonly flow: string;
  readonly node?: string;
}

/** Continues in another flow (at its start, or at a named node). */
export const gotoNode: NodeType<GotoNode> = {
  type: 'goto',
  schema: z.strictObject({ type: z.literal('goto'), flow: z.string().min(1), node: z.string().min(1).optional() }),
  targets: (node) => [{ flow: node.flow, node: node.node }],
  textKeys: () => [],
  enter: (node) => ({ kind: 'go', target: { flow: node.flow, node: node.node } }),
};
