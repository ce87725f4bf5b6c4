import { z } from 'zod';
import type { ActionType } from './action-type';

const params = z.strictObject({});

/** The caller would rather not answer the profile questions: remembered, so they are not asked again. */
export const skipProfile: ActionType<z.infer<typeof params>> = {
  name: 'skip_profile',
  params,
  run: () => ({ ok: true, events: [{ type: 'profile.skipped' }] }),
};
