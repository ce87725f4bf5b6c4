import { z } from 'zod';
import { isProfileValue, PREFER_NOT_TO_SAY, PROFILE_FIELD_NAMES, PROFILE_FIELDS, type ProfileField } from '../profile-fields';
import type { FlowEvent, InputOutcome, NodeEnv, NodeType, Target, Vars } from '../types';
import { asList, refs, target, textKey, textKeys, varName } from './common';

export interface QuestionOption {
  readonly label: string;
  /** What choosing it records; an option without one only moves on (e.g. "more regions"). */
  readonly category?: string;
  readonly next?: Target;
}

export interface QuestionPattern {
  readonly category: string;
  /** One regular expression per language, matched against the whole answer, case and accents ignored. */
  readonly match: Readonly<Record<string, string>>;
  readonly next?: Target;
}

export interface QuestionNode {
  readonly type: 'question';
  readonly id: string;
  readonly title: string | readonly string[];
  /** The result it records for the respondent (knows_law), or... */
  readonly result?: string;
  /** ...the field of the respondent's profile it fills (region, age_band, sex). */
  readonly profile?: ProfileField;
  readonly options?: readonly QuestionOption[];
  readonly patterns?: readonly QuestionPattern[];
  /** Free text that matches no pattern is recorded as this category (without it, the question is asked again). */
  readonly other?: string;
  /** The right answer: a quiz question. */
  readonly correct?: string;
  /** A variable counting the right answers of the questions that share it (answering again replaces the mark). */
  readonly score?: string;
  /** A variable the category is saved to. */
  readonly save?: string;
  /** Shown above the question again when the answer is refused. */
  readonly error?: string;
  /** Where every answer goes, unless its option or pattern names its own next. */
  readonly next?: Target;
}

const languageCode = z.string().regex(/^[a-z]{2,3}$/, 'a language code');
const category = z.string().regex(/^[a-z0-9][a-z0-9_]*$/, 'a category like "yes" or "18_24"').max(40);

/** What answers are compared on: no accents, single spaces (case is ignored by the pattern's flags). */
const normalized = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').trim().replace(/\s+/g, ' ');

function compile(pattern: string): RegExp | Error {
  try {
    return new RegExp(`^(?:${normalized(pattern)})$`, 'iu');
  } catch (err) {
    return err as Error;
  }
}

/** The categories its options and patterns offer (not `other`). */
const offeredOf = (node: QuestionNode): string[] => [
  ...(node.options ?? []).flatMap((option) => (option.category === undefined ? [] : [option.category])),
  ...(node.patterns ?? []).map((pattern) => pattern.category),
];
const categoriesOf = (node: QuestionNode): string[] => [...offeredOf(node), ...(node.other === undefined ? [] : [node.other])];

const what = (node: QuestionNode): string => (node.profile ? `profile field "${node.profile}"` : `result "${node.result ?? ''}"`);

function shapeProblems(node: QuestionNode): string[] {
  const issues: string[] = [];
  if ((node.result === undefined) === (node.profile === undefined)) {
    issues.push('a question records either a result (`result: knows_law`) or a profile field (`profile: region`): give one of them');
  }
  const offered = offeredOf(node);
  if (node.options && node.patterns) issues.push('a question takes options or patterns (free text), not both');
  else if (offered.length === 0) issues.push(`${what(node)} has no categories: give options with a category, or patterns`);
  const twice = new Set(offered.filter((name, index) => offered.indexOf(name) !== index));
  for (const name of twice) issues.push(`category "${name}" is offered twice`);
  if (node.other !== undefined && !node.patterns) issues.push('`other` is for free-text answers: it needs patterns');
  return issues;
}

function answerProblems(node: QuestionNode): string[] {
  const issues: string[] = [];
  const categories = categoriesOf(node);
  if (node.correct !== undefined && node.profile) issues.push('a profile question has no correct answer');
  else if (node.correct !== undefined && !categories.includes(node.correct)) {
    issues.push(`correct answer "${node.correct}" is not one of its categories (${categories.join(', ')})`);
  }
  if (node.score !== undefined && node.correct === undefined) {
    issues.push(`score "${node.score}" counts right answers: give the correct one`);
  }
  if (node.profile) {
    const known = PROFILE_FIELDS[node.profile];
    for (const name of categories.filter((candidate) => !isProfileValue(node.profile ?? '', candidate))) {
      issues.push(`"${name}" is not a known ${node.profile.replace('_', ' ')} (known: ${known.join(', ')}, or ${PREFER_NOT_TO_SAY})`);
    }
  }
  return issues;
}

function routeProblems(node: QuestionNode): string[] {
  if (node.next !== undefined) return [];
  const unrouted = [
    ...(node.options ?? []).flatMap((option, index) => (option.next === undefined ? [`option ${index + 1}`] : [])),
    ...(node.patterns ?? []).flatMap((pattern) => (pattern.next === undefined ? [`pattern "${pattern.category}"`] : [])),
    ...(node.other !== undefined ? ['other'] : []),
  ];
  return unrouted.map((where) => `${where} has no next, and the question has no next`);
}

/** The events and variables of one recorded answer. */
function record(node: QuestionNode, chosen: string, env: NodeEnv): { events: FlowEvent[]; setVars: Vars } {
  const language = env.vars.language ?? '';
  const vars: Record<string, string> = node.save ? { [node.save]: chosen } : {};
  if (node.profile) return { events: [{ type: 'profile.answered', field: node.profile, category: chosen }], setVars: vars };
  const result = node.result ?? '';
  const correct = node.correct === undefined ? {} : { correct: chosen === node.correct };
  if (node.score !== undefined) {
    const mark = `${node.score}.${result}`;
    const marks = { ...env.vars, [mark]: chosen === node.correct ? '1' : '0' };
    vars[mark] = marks[mark] ?? '0';
    vars[node.score] = String(Object.entries(marks).filter(([name, value]) => name.startsWith(`${node.score}.`) && value === '1').length);
  }
  // `sitting` is the engine's session id (a keyed hash of the channel's): one answer per question per call is kept.
  const { position: { flow }, context: { sessionId: sitting } } = env;
  const event = { type: 'result.recorded', flow, node: node.id, result, category: chosen, ...correct, language, sitting };
  return { events: [event], setVars: vars };
}

function answered(node: QuestionNode, chosen: string, next: Target | undefined, env: NodeEnv): InputOutcome {
  const { events, setVars } = record(node, chosen, env);
  return { kind: 'go', target: next ?? node.next ?? node.id, setVars, events };
}

/**
 * Asks a question and records the answer's category: a result of the respondent (a quiz question when it has a
 * correct answer), or a field of their profile. Answers are numbered options, or free text matched by patterns.
 */
export const questionNode: NodeType<QuestionNode> = {
  type: 'question',
  schema: z.strictObject({
    type: z.literal('question'),
    title: textKeys,
    result: varName.optional(),
    profile: z.enum(PROFILE_FIELD_NAMES).optional(),
    options: z.array(z.strictObject({ label: textKey, category: category.optional(), next: target.optional() })).max(9).optional(),
    patterns: z.array(z.strictObject({ category, match: z.record(languageCode, z.string().min(1)), next: target.optional() })).optional(),
    other: category.optional(),
    correct: category.optional(),
    score: varName.optional(),
    save: varName.optional(),
    error: textKey.optional(),
    next: target.optional(),
  }),
  targets: (node) => [
    ...(node.next === undefined ? [] : [node.next]),
    ...(node.options ?? []).flatMap((option) => (option.next === undefined ? [] : [option.next])),
    ...(node.patterns ?? []).flatMap((pattern) => (pattern.next === undefined ? [] : [pattern.next])),
  ],
  edgeLabels: (node) => [
    ...(node.next === undefined ? [] : ['answer']),
    ...(node.options ?? []).flatMap((option, index) => (option.next === undefined ? [] : [String(index + 1)])),
    ...(node.patterns ?? []).flatMap((pattern) => (pattern.next === undefined ? [] : [pattern.category])),
  ],
  textKeys: (node) => [
    ...asList(node.title),
    ...(node.options ?? []).map((option) => option.label),
    node.error ?? (node.options ? 'common.invalid_option' : 'common.invalid_input'),
  ],
  problems(node) {
    const issues = [...shapeProblems(node), ...answerProblems(node), ...routeProblems(node)];
    for (const pattern of node.patterns ?? []) {
      for (const [language, source] of Object.entries(pattern.match)) {
        const regex = compile(source);
        if (regex instanceof Error) issues.push(`invalid pattern /${source}/ (${language}) for "${pattern.category}": ${regex.message}`);
      }
    }
    return issues;
  },
  languageProblems: (node, languages) =>
    (node.patterns ?? []).flatMap((pattern) =>
      languages.filter((code) => pattern.match[code] === undefined).map((code) => `pattern "${pattern.category}" has no regex for ${code}`),
    ),
  uniqueNames: (node) => (node.result === undefined ? [] : [`result "${node.result}"`]),
  enter: (node, env) => ({
    kind: 'screen',
    screen: {
      end: false,
      body: refs(node.title, env.vars),
      options: (node.options ?? []).map((option, index) => ({ number: index + 1, label: { key: option.label } })),
    },
  }),
  input(node, input, env) {
    if (node.options) {
      const option = /^[1-9]$/.test(input) ? node.options[Number(input) - 1] : undefined;
      if (!option) return { kind: 'invalid', notice: { key: node.error ?? 'common.invalid_option' } };
      if (option.category === undefined) return { kind: 'go', target: option.next ?? node.next ?? node.id };
      return answered(node, option.category, option.next, env);
    }
    const answer = normalized(input);
    const language = env.vars.language ?? '';
    const matched = (node.patterns ?? []).find((pattern) => {
      const source = pattern.match[language];
      const regex = source === undefined ? undefined : compile(source);
      return regex instanceof RegExp && regex.test(answer);
    });
    if (matched) return answered(node, matched.category, matched.next, env);
    if (node.other !== undefined && answer !== '') return answered(node, node.other, undefined, env);
    return { kind: 'invalid', notice: { key: node.error ?? 'common.invalid_input' } };
  },
};
