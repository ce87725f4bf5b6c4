import { z } from 'zod';
import type { ActionType } from './action-type';

export const REPORT_KINDS = ['begging', 'mines', 'domestic', 'sexual', 'forced_labour', 'migration', 'marriage', 'other'] as const;
export const URGENCIES = ['child_in_danger', 'urgent', 'normal'] as const;

const params = z.strictObject({
  kind: z.enum(REPORT_KINDS),
  region: z.string().min(1).max(40),
  urgency: z.enum(URGENCIES),
  callback: z.enum(['yes', 'no']).default('no'),
});

/** An anonymous report of a suspected case; its reference code goes to `ref`. */
export const createReport: ActionType<z.infer<typeof params>> = {
  name: 'create_report',
  params,
  run(p, env) {
    const reference = env.context.newReference();
    return {
      ok: true,
      setVars: { ref: reference },
      events: [
        { type: 'report.created', reference, kind: p.kind, region: p.region, urgency: p.urgency, wantsCallback: p.callback === 'yes' },
      ],
    };
  },
};
