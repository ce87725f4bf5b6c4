import { z } from 'zod';
import type { ActionType } from '../actions/action-type';
import { interpolate } from '../interpolate';
import type { NodeType, Target } from '../types';
import { target } from './common';

export interface ActionNode {
  readonly type: 'action';
  readonly id: string;
  readonly action: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly next: Target;
  readonly on_error?: Target;
}

export class FlowRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowRuntimeError';
  }
}

/** Runs a registered action (a side effect the caller applies), then goes to next, or on_error if refused. */
export function actionNode(actions: ReadonlyMap<string, ActionType>): NodeType<ActionNode> {
  return {
    type: 'action',
    schema: z.strictObject({
      type: z.literal('action'),
      action: z.string().min(1),
      params: z.record(z.string(), z.string()).optional(),
      next: target,
      on_error: target.optional(),
    }),
    targets: (node) => (node.on_error === undefined ? [node.next] : [node.next, node.on_error]),
    edgeLabels: () => ['ok', 'on_error'],
    textKeys: () => [],
    problems: (node) =>
      actions.has(node.action) ? [] : [`unknown action "${node.action}" (registered: ${[...actions.keys()].join(', ')})`],
    enter(node, env) {
      const action = actions.get(node.action);
      if (!action) throw new FlowRuntimeError(`unknown action "${node.action}"`);
      const resolved = Object.fromEntries(
        Object.entries(node.params ?? {})
          .map(([name, template]) => [name, interpolate(template, env.vars)] as const)
          .filter(([, value]) => value !== ''),
      );
      const parsed = action.params.safeParse(resolved);
      const result = parsed.success ? action.run(parsed.data, env) : { ok: false as const, reason: parsed.error.message };
      if (result.ok) return { kind: 'go', target: node.next, setVars: result.setVars, events: result.events };
      if (node.on_error === undefined) {
        throw new FlowRuntimeError(`action "${node.action}" at ${env.position.flow}/${node.id} failed: ${result.reason}`);
      }
      return { kind: 'go', target: node.on_error, setVars: { error: node.action } };
    },
  };
}
