import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { NODE_TYPES } from './registry';
import type { NodeBase } from './types';

export const SPEC_VERSION = 1;

export interface Flow {
  readonly id: string;
  readonly file: string;
  readonly start: string;
  readonly nodes: ReadonlyMap<string, NodeBase>;
  /** Digits dialled after the service code that start this flow directly: "7" for *321*7#. */
  readonly shortcut?: string;
}

export interface FlowSet {
  readonly flows: ReadonlyMap<string, Flow>;
  /** The flow a new session starts in. */
  readonly entry: string;
  /** Shortcut digits -> the flow a session dialled with them starts in. */
  readonly shortcuts: ReadonlyMap<string, string>;
}

/** A problem found while loading or checking flows, with where it is. */
export interface FlowProblem {
  readonly file: string;
  readonly flow?: string;
  readonly node?: string;
  readonly message: string;
}

const fileSchema = z.strictObject({
  spec_version: z.literal(SPEC_VERSION, { message: `spec_version must be ${SPEC_VERSION}` }),
  flow: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a flow id like "report"'),
  description: z.string().optional(),
  shortcut: z.string().regex(/^[1-9][0-9]{0,2}$/, 'a shortcut is 1 to 3 digits, not starting with 0 (*321*7#: "7")').optional(),
  start: z.string().min(1),
  nodes: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'node ids are lower_snake_case'), z.unknown()),
});

const formatIssues = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('; ');

/** Parses one YAML flow file; pure. Node shapes are validated by their registered type. */
export function parseFlowFile(file: string, text: string): { flow?: Flow; problems: FlowProblem[] } {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return { problems: [{ file, message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) return { problems: [{ file, message: formatIssues(parsed.error) }] };
  const { flow: id, start, nodes: rawNodes, shortcut } = parsed.data;
  const problems: FlowProblem[] = [];
  const nodes = new Map<string, NodeBase>();
  const claimed = new Map<string, string>();
  for (const [nodeId, rawNode] of Object.entries(rawNodes)) {
    const typeName = (rawNode as { type?: unknown } | null)?.type;
    const type = typeof typeName === 'string' ? NODE_TYPES.get(typeName) : undefined;
    if (!type) {
      problems.push({
        file,
        flow: id,
        node: nodeId,
        message: `unknown node type ${JSON.stringify(typeName)} (known: ${[...NODE_TYPES.keys()].join(', ')})`,
      });
      continue;
    }
    const node = type.schema.safeParse(rawNode);
    if (!node.success) {
      problems.push({ file, flow: id, node: nodeId, message: formatIssues(node.error) });
      continue;
    }
    const full = { ...(node.data as object), id: nodeId } as NodeBase;
    for (const message of type.problems?.(full) ?? []) problems.push({ file, flow: id, node: nodeId, message });
    for (const name of type.uniqueNames?.(full) ?? []) {
      const other = claimed.get(name);
      const message = `${name} is also recorded by ${id}/${other ?? ''}: give each its own name`;
      if (other) problems.push({ file, flow: id, node: nodeId, message });
      else claimed.set(name, nodeId);
    }
    nodes.set(nodeId, full);
  }
  if (!(start in rawNodes)) problems.push({ file, flow: id, message: `start node "${start}" does not exist` });
  return { flow: { id, file, start, nodes, ...(shortcut ? { shortcut } : {}) }, problems };
}

/** Builds a flow set from parsed files; duplicate ids and a missing entry flow are problems. */
export function buildFlowSet(
  files: ReadonlyArray<{ file: string; text: string }>,
  entry: string,
): { set: FlowSet; problems: FlowProblem[] } {
  const flows = new Map<string, Flow>();
  const shortcuts = new Map<string, string>();
  const problems: FlowProblem[] = [];
  for (const { file, text } of files) {
    const result = parseFlowFile(file, text);
    problems.push(...result.problems);
    if (!result.flow) continue;
    const existing = flows.get(result.flow.id);
    if (existing) {
      problems.push({ file, flow: result.flow.id, message: `flow id "${result.flow.id}" is also used by ${existing.file}` });
      continue;
    }
    flows.set(result.flow.id, result.flow);
    const { shortcut } = result.flow;
    if (shortcut === undefined) continue;
    const taken = shortcuts.get(shortcut);
    if (taken) problems.push({ file, flow: result.flow.id, message: `shortcut "${shortcut}" is also the shortcut of flow "${taken}"` });
    else if (result.flow.id === entry) problems.push({ file, flow: entry, message: 'the entry flow takes no shortcut' });
    else shortcuts.set(shortcut, result.flow.id);
  }
  if (!flows.has(entry)) problems.push({ file: '(flows)', message: `the entry flow "${entry}" is not defined` });
  return { set: { flows, entry, shortcuts }, problems };
}
