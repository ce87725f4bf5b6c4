import { z } from 'zod';
import type { NodeType, Target } from '../types';
import { asList, refs, target, textKey, textKeys, varName } from './common';

export interface InputValidation {
  readonly digits?: boolean;
  readonly min_length?: number;
  readonly max_length?: number;
  readonly pattern?: string;
  readonly choices?: readonly string[];
}

export interface InputNode {
  readonly type: 'input';
  readonly id: string;
  readonly prompt: string | readonly string[];
  readonly save: string;
  readonly validate?: InputValidation;
  /** Shown above the prompt again when the input is refused. */
  readonly error?: string;
  readonly next: Target;
}

function compile(pattern: string): RegExp | Error {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch (err) {
    return err as Error;
  }
}

function accepts(rules: InputValidation | undefined, input: string): boolean {
  if (!rules) return input.length > 0;
  const length = [...input].length;
  if (rules.digits && !/^\d+$/.test(input)) return false;
  if (length < (rules.min_length ?? 1)) return false;
  if (rules.max_length !== undefined && length > rules.max_length) return false;
  if (rules.choices && !rules.choices.includes(input)) return false;
  if (rules.pattern) {
    const regex = compile(rules.pattern);
    if (regex instanceof Error || !regex.test(input)) return false;
  }
  return true;
}

/** Free input (digits, a word, a time) saved to a variable once it passes validation. */
export const inputNode: NodeType<InputNode> = {
  type: 'input',
  schema: z.strictObject({
    type: z.literal('input'),
    prompt: textKeys,
    save: varName,
    validate: z
      .strictObject({
        digits: z.boolean().optional(),
        min_length: z.number().int().min(0).optional(),
        max_length: z.number().int().min(1).max(160).optional(),
        pattern: z.string().min(1).optional(),
        choices: z.array(z.string().min(1)).min(1).optional(),
      })
      .optional(),
    error: textKey.optional(),
    next: target,
  }),
  targets: (node) => [node.next],
  textKeys: (node) => [...asList(node.prompt), node.error ?? 'common.invalid_input'],
  problems(node) {
    const issues: string[] = [];
    const pattern = node.validate?.pattern;
    if (pattern !== undefined) {
      const regex = compile(pattern);
      if (regex instanceof Error) issues.push(`invalid pattern /${pattern}/: ${regex.message}`);
    }
    const { min_length: min, max_length: max } = node.validate ?? {};
    if (min !== undefined && max !== undefined && min > max) issues.push(`min_length ${min} is above max_length ${max}`);
    return issues;
  },
  enter: (node, env) => ({ kind: 'screen', screen: { end: false, body: refs(node.prompt, env.vars), options: [] } }),
  input(node, input) {
    if (!accepts(node.validate, input)) return { kind: 'invalid', notice: { key: node.error ?? 'common.invalid_input' } };
    return { kind: 'go', target: node.next, setVars: { [node.save]: input } };
  },
};
