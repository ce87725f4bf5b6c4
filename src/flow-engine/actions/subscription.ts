import { z } from 'zod';
import type { ActionType } from './action-type';

export const TOPICS = ['recruiters', 'law', 'migration', 'children', 'help'] as const;

const params = z.strictObject({ topic: z.union([z.enum(TOPICS), z.literal('all')]) });
type Params = z.infer<typeof params>;

/** Consent to awareness SMS on one topic, given on USSD. */
export const subscribe: ActionType<Params> = {
  name: 'subscribe',
  params,
  run: (p, env) => ({
    ok: true,
    events: [{ type: 'subscription.changed', topic: p.topic, subscribed: true, language: env.vars.language ?? '' }],
  }),
};

/** Withdraws consent for one topic, or for all. */
export const unsubscribe: ActionType<Params> = {
  name: 'unsubscribe',
  params,
  run: (p, env) => ({
    ok: true,
    events: [{ type: 'subscription.changed', topic: p.topic, subscribed: false, language: env.vars.language ?? '' }],
  }),
};
