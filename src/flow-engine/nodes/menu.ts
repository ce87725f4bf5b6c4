import { z } from 'zod';
import type { NodeType, Target } from '../types';
import { asList, refs, target, textKey, textKeys, varName } from './common';

export interface MenuNode {
  readonly type: 'menu';
  readonly id: string;
  readonly title: string | readonly string[];
  readonly options: ReadonlyArray<{ readonly label: string; readonly next: Target; readonly value?: string }>;
  /** Saves the chosen option's value under this variable. */
  readonly save?: string;
}

/** Numbered options; the caller types a number. Long titles paginate in the ussd room. */
export const menuNode: NodeType<MenuNode> = {
  type: 'menu',
  schema: z.strictObject({
    type: z.literal('menu'),
    title: textKeys,
    options: z.array(z.strictObject({ label: textKey, next: target, value: z.string().min(1).optional() })).min(1).max(9),
    save: varName.optional(),
  }),
  targets: (node) => node.options.map((option) => option.next),
  edgeLabels: (node) => node.options.map((option, index) => String(index + 1)),
  textKeys: (node) => [...asList(node.title), ...node.options.map((option) => option.label)],
  problems: (node) =>
    node.save && node.options.some((option) => option.value === undefined) ? [`menu saves "${node.save}" but an option has no value`] : [],
  enter: (node, env) => ({
    kind: 'screen',
    screen: {
      end: false,
      body: refs(node.title, env.vars),
      // Option labels do not interpolate: a screen stays small in the session that keeps it.
      options: node.options.map((option, index) => ({ number: index + 1, label: { key: option.label } })),
    },
  }),
  input(node, input) {
    const choice = /^[1-9]$/.test(input) ? node.options[Number(input) - 1] : undefined;
    if (!choice) return { kind: 'invalid', notice: { key: 'common.invalid_option' } };
    return {
      kind: 'go',
      target: choice.next,
      setVars: node.save && choice.value !== undefined ? { [node.save]: choice.value } : undefined,
    };
  },
};
