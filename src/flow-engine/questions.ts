import type { FlowSet } from './flow';
import type { QuestionNode } from './nodes/question';

/** One question that records a result (not a profile field), as results pages list it. */
export interface ResultQuestion {
  readonly flow: string;
  readonly result: string;
  readonly node: string;
  /** The text keys of its title; the last one is the question itself (the first may be an intro). */
  readonly titleKeys: readonly string[];
  /** Its categories in the order offered, each with the label key of its option (none for a free-text pattern). */
  readonly categories: ReadonlyArray<{ readonly category: string; readonly labelKey?: string }>;
  /** The right answer: a quiz question. */
  readonly correct?: string;
}

/** Every question of the flows that records a result, flow by flow in file order. */
export function resultQuestionsOf(set: FlowSet): ResultQuestion[] {
  return [...set.flows.values()].flatMap((flow) =>
    [...flow.nodes.values()]
      .filter((node): node is QuestionNode => node.type === 'question' && (node as QuestionNode).result !== undefined)
      .map((node) => {
        const offered = [
          ...(node.options ?? []).flatMap((option) =>
            option.category === undefined ? [] : [{ category: option.category, labelKey: option.label }],
          ),
          ...(node.patterns ?? []).map((pattern) => ({ category: pattern.category })),
          ...(node.other === undefined ? [] : [{ category: node.other }]),
        ];
        return {
          flow: flow.id,
          result: node.result ?? '',
          node: node.id,
          titleKeys: typeof node.title === 'string' ? [node.title] : [...node.title],
          categories: offered,
          ...(node.correct === undefined ? {} : { correct: node.correct }),
        };
      }),
  );
}

/** The flows with at least one question that has a right answer: the quizzes a campaign can be compared on. */
export const quizFlowsOf = (questions: readonly ResultQuestion[]): string[] =>
  [...new Set(questions.filter((question) => question.correct !== undefined).map((question) => question.flow))];
