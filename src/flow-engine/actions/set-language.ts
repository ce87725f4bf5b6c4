import { z } from 'zod';
import type { ActionType } from './action-type';

const params = z.strictObject({ language: z.string().regex(/^[a-z]{2,3}$/, 'an ISO 639 code') });

/** Switches the session's language at once and asks for it to be remembered for this phone. */
export const setLanguage: ActionType<z.infer<typeof params>> = {
  name: 'set_language',
  params,
  run: (p) => ({ ok: true, setVars: { language: p.language }, events: [{ type: 'language.chosen', language: p.language }] }),
};
