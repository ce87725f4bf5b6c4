import { z } from 'zod';

/** AT's USSD callback form fields; everything is untrusted input. */
export const ussdRequestSchema = z.object({
  sessionId: z.string().min(1).max(128),
  serviceCode: z.string().max(32).default(''),
  phoneNumber: z.string().regex(/^\+?[0-9]{6,15}$/, 'phoneNumber must be digits, E.164'),
  networkCode: z.string().max(16).default(''),
  text: z.string().max(2_000).default(''),
});
export type UssdRequest = z.infer<typeof ussdRequestSchema>;

/** AT's end-of-session notification. */
export const ussdSessionEventSchema = z.object({
  sessionId: z.string().min(1).max(128),
  serviceCode: z.string().max(32).default(''),
  networkCode: z.string().max(16).default(''),
  phoneNumber: z.string().regex(/^\+?[0-9]{6,15}$/),
  status: z.enum(['Incomplete', 'Success', 'Failed']),
  date: z.string().max(64).optional(),
  cost: z.string().max(32).optional(),
  durationInMillis: z.coerce.number().int().min(0).optional(),
  hopsCount: z.coerce.number().int().min(0).optional(),
  input: z.string().max(2_000).optional(),
  lastAppResponse: z.string().max(2_000).optional(),
  errorMessage: z.string().max(500).optional(),
});
export type UssdSessionEvent = z.infer<typeof ussdSessionEventSchema>;
