import { z } from 'zod';
import type { Target, TextRef } from '../types';

export const textKey = z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'a text key like "main.title"');
/** One key or several shown one after the other. */
export const textKeys = z.union([textKey, z.array(textKey).min(1)]);
export const target: z.ZodType<Target> = z.union([
  z.string().min(1),
  z.strictObject({ flow: z.string().min(1), node: z.string().min(1).optional() }),
]);
export const varName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a variable name like "region"');

export const asList = (keys: string | readonly string[]): string[] => (typeof keys === 'string' ? [keys] : [...keys]);
export const refs = (keys: string | readonly string[], vars: Readonly<Record<string, string>>): TextRef[] =>
  asList(keys).map((key) => ({ key, vars }));
