import { z } from 'zod';
import type { ActionType } from './action-type';
import { URGENCIES } from './create-report';

export const CALLBACK_WINDOWS = ['morning', 'midday', 'afternoon', 'evening'] as const;

const params = z.strictObject({
  window: z.enum(CALLBACK_WINDOWS),
  topic: z.string().min(1).max(40),
  urgency: z.enum(URGENCIES).default('normal'),
  region: z.string().max(40).default(''),
  confirm_sms: z.enum(['yes', 'no']).default('no'),
  /** A report in the same session that this callback follows up. */
  report: z.string().max(12).default(''),
});

/** A request for the hotline to call this phone back inside a safe window; reference code to `ref`. */
export const requestCallback: ActionType<z.infer<typeof params>> = {
  name: 'request_callback',
  params,
  run(p, env) {
    const reference = p.report || env.context.newReference();
    return {
      ok: true,
      setVars: { ref: reference },
      events: [
        {
          type: 'callback.requested',
          reference,
          window: p.window,
          topic: p.topic,
          urgency: p.urgency,
          region: p.region,
          confirmBySms: p.confirm_sms === 'yes',
          language: env.vars.language ?? '',
        },
      ],
    };
  },
};
