import type { z } from 'zod';
import type { FlowEvent, NodeEnv, Vars } from '../types';

export type ActionResult =
  | { readonly ok: true; readonly setVars?: Vars; readonly events: readonly FlowEvent[] }
  | { readonly ok: false; readonly reason: string };

/**
 * A side effect a flow may ask for. The engine only validates the params and returns events;
 * the ussd room's use cases apply them (store a report, queue an SMS...).
 */
export interface ActionType<P = unknown> {
  readonly name: string;
  /** Params after "{{var}}" interpolation; a failure takes the node's on_error branch. */
  readonly params: z.ZodType<P>;
  run(params: P, env: NodeEnv): ActionResult;
}
