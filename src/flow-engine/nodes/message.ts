import { z } from 'zod';
import type { NodeType } from '../types';
import { asList, refs, textKeys } from './common';

export interface MessageNode {
  readonly type: 'message';
  readonly id: string;
  readonly text: string | readonly string[];
}

/** A last screen: shows its text and ends the session. */
export const messageNode: NodeType<MessageNode> = {
  type: 'message',
  schema: z.strictObject({ type: z.literal('message'), text: textKeys }),
  targets: () => [],
  textKeys: (node) => asList(node.text),
  enter: (node, env) => ({ kind: 'screen', screen: { end: true, body: refs(node.text, env.vars), options: [] } }),
};
