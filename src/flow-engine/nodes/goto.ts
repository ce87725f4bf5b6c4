import { z } from 'zod';
import type { NodeType, Vars } from '../types';
import { varName } from './common';

export interface GotoNode {
  readonly type: 'goto';
  readonly id: string;
  readonly flow: string;
  readonly node?: string;
  /** Variables set on the way, e.g. where a shared flow (the profile) returns to: `return_to: quiz`. */
  readonly set?: Vars;
}

/** Continues in another flow (at its start, or at a named node). */
export const gotoNode: NodeType<GotoNode> = {
  type: 'goto',
  schema: z.strictObject({
    type: z.literal('goto'),
    flow: z.string().min(1),
    node: z.string().min(1).optional(),
    set: z.record(varName, z.string().max(40)).optional(),
  }),
  targets: (node) => [{ flow: node.flow, node: node.node }],
  textKeys: () => [],
  enter: (node) => ({ kind: 'go', target: { flow: node.flow, node: node.node }, ...(node.set ? { setVars: node.set } : {}) }),
};
