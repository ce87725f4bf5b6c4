import { z } from 'zod';
import type { NodeType, Target, Vars } from '../types';
import { target, varName } from './common';

export interface SwitchCase {
  readonly var: string;
  readonly equals?: string;
  readonly in?: readonly string[];
  readonly exists?: boolean;
  readonly next: Target;
}

export interface SwitchNode {
  readonly type: 'switch';
  readonly id: string;
  readonly cases: readonly SwitchCase[];
  readonly default: Target;
}

function matches(test: SwitchCase, vars: Vars): boolean {
  const value = vars[test.var];
  if (test.exists !== undefined && (value !== undefined && value !== '') !== test.exists) return false;
  if (test.equals !== undefined && value !== test.equals) return false;
  if (test.in !== undefined && (value === undefined || !test.in.includes(value))) return false;
  return true;
}

/**
 * Branches on variables, including what the caller's profile put there at the start of the
 * session (`caller_language`, `caller_known`). The first case that matches wins.
 */
export const switchNode: NodeType<SwitchNode> = {
  type: 'switch',
  schema: z.strictObject({
    type: z.literal('switch'),
    cases: z
      .array(
        z
          .strictObject({
            var: varName,
            equals: z.string().optional(),
            in: z.array(z.string()).min(1).optional(),
            exists: z.boolean().optional(),
            next: target,
          })
          .refine(
            (test) => test.equals !== undefined || test.in !== undefined || test.exists !== undefined,
            'a case needs equals, in or exists',
          ),
      )
      .min(1),
    default: target,
  }),
  targets: (node) => [...node.cases.map((test) => test.next), node.default],
  edgeLabels: (node) => [
    ...node.cases.map((test) =>
      test.equals !== undefined
        ? `${test.var}=${test.equals}`
        : test.in
          ? `${test.var} in ${test.in.join('|')}`
          : `${test.var}${test.exists ? ' set' : ' unset'}`,
    ),
    'default',
  ],
  textKeys: () => [],
  enter: (node, env) => ({ kind: 'go', target: node.cases.find((test) => matches(test, env.vars))?.next ?? node.default }),
};
