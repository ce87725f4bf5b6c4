import type { z } from 'zod';

/** A reference to a translated text: an i18next key and the variables it interpolates. */
export interface TextRef {
  readonly key: string;
  readonly vars?: Readonly<Record<string, string>>;
}

/** What the caller sees after a step, still untranslated: the ussd room renders and paginates it. */
export interface Screen {
  /** true: the session ends (END); false: it waits for input (CON). */
  readonly end: boolean;
  /** A short line shown first, e.g. "Invalid choice". */
  readonly notice?: TextRef;
  readonly body: readonly TextRef[];
  readonly options: ReadonlyArray<{ readonly number: number; readonly label: TextRef }>;
}

/** Where a transition goes: a node of the same flow, or the start (or a node) of another flow. */
export type Target = string | { readonly flow: string; readonly node?: string };

export type Vars = Readonly<Record<string, string>>;

/** Side effects the engine asks for; the caller applies them (store a report, enqueue an SMS...). */
export interface FlowEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface Position {
  readonly flow: string;
  readonly node: string;
}

export interface FlowState {
  readonly position: Position;
  readonly vars: Vars;
  /** Interactive nodes visited, most recent last, for "0 back". */
  readonly history: readonly Position[];
  readonly wrongTries: number;
  readonly ended: boolean;
}

/** What the engine knows of the call. */
export interface StepContext {
  readonly sessionId: string;
  /**
   * A fresh reference code, unique across callers (allocated, never derived from the session: see
   * hotline/reference-codes.ts). Synchronous, so the engine stays free of I/O; a step is reproducible
   * given the codes this hands out.
   */
  readonly newReference: () => string;
}

export interface NodeBase {
  readonly type: string;
  readonly id: string;
}

/** Entering a node either shows a screen (and waits, or ends) or moves on at once. */
export type EnterOutcome =
  | { readonly kind: 'screen'; readonly screen: Screen }
  | { readonly kind: 'go'; readonly target: Target; readonly setVars?: Vars; readonly events?: readonly FlowEvent[] };

export type InputOutcome =
  | { readonly kind: 'go'; readonly target: Target; readonly setVars?: Vars; readonly events?: readonly FlowEvent[] }
  | { readonly kind: 'invalid'; readonly notice: TextRef };

export interface NodeEnv {
  readonly vars: Vars;
  readonly context: StepContext;
  readonly position: Position;
}

/** One kind of node: its YAML shape, how it behaves, and what a checker must know of it. */
export interface NodeType<N extends NodeBase = NodeBase> {
  readonly type: string;
  readonly schema: z.ZodType<Omit<N, 'id'>>;
  /** Targets it may go to, for reachability and dangling-reference checks. */
  targets(node: N): Target[];
  /** A short label per target, in the same order, for the drawn graph (default: none). */
  edgeLabels?(node: N): string[];
  /** Every text key it shows, for missing-translation checks. */
  textKeys(node: N): string[];
  enter(node: N, env: NodeEnv): EnterOutcome;
  /** Interactive nodes only. */
  input?(node: N, input: string, env: NodeEnv): InputOutcome;
  /** Static problems beyond the schema (e.g. a pattern that does not compile). */
  problems?(node: N): string[];
  /** Static problems that depend on the enabled languages (e.g. a free-text answer with no pattern in one). */
  languageProblems?(node: N, languages: readonly string[]): string[];
  /** Names this node claims that no other node of its flow may claim (e.g. "result knows_law"). */
  uniqueNames?(node: N): string[];
}
