import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import type { PhoneProtection } from '../shared/phone-protection';
import { toE164 } from '../shared/phone-number';
import { maskPhone } from '../shared/redact';
import type { StaffContext } from '../staff/access';
import type { ApiRegistry } from '../staff/api-registry';
import type { AuditLog } from '../staff/audit-log';
import { ATTEMPT_OUTCOMES, CLOSED_STATUSES, CLOSING_OUTCOMES, OPEN_STATUSES } from './callback-policy';
import type { DutyRota } from './duty-rota';
import { hotlineCsv, hotlineFigures } from './hotline-figures';
import { partnerCsv, partnerFigures } from './partner-figures';
import { QUEUE_PAGE_SIZE, queuePageOf, queueView } from './queue-page';
import type { HotlineStore } from './hotline-store';
import type { Agent, CallbackWork } from './work-callback-request';

export const REFERENCE_PATTERN = /^[2-9A-HJKMNP-TV-Z]{6}$/;
const AGENTS = ['hotline_agent', 'admin'] as const;
const FIGURES = ['admin', 'partner_viewer'] as const;
const note = z.string().trim().max(2_000, 'notes are at most 2,000 characters').default('');
const queueQuery = z.strictObject({
  status: z.enum([...OPEN_STATUSES, ...CLOSED_STATUSES]).optional(),
  region: z.string().max(40).optional(),
  language: z.string().max(3).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  perPage: z.coerce.number().int().min(1).max(200).default(QUEUE_PAGE_SIZE),
});
const period = z.strictObject({ from: z.coerce.date().optional(), to: z.coerce.date().optional() });
const attempt = z.strictObject({ outcome: z.enum(ATTEMPT_OUTCOMES), note });
const closing = z.strictObject({ outcome: z.enum(Object.keys(CLOSING_OUTCOMES) as [keyof typeof CLOSING_OUTCOMES]), note });
const reschedule = z.strictObject({ at: z.coerce.date() });
const shift = z.strictObject({
  name: z.string().trim().min(1).max(80),
  phone: z.string().max(30),
  language: z.enum(['fr', 'en']).default('fr'),
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7),
  from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
  to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
});

export interface HotlineApiDeps {
  store: HotlineStore;
  work: CallbackWork;
  rota: DutyRota;
  protection: PhoneProtection;
  audit: AuditLog;
  now(): Date;
}

/** Admins see the hotline's rows; everyone else with figures access (partners) sees aggregates only. */
export const seesRows = (staff: StaffContext | undefined): boolean => staff?.user.roles.includes('admin') ?? false;

export const agentOf = (staff: StaffContext | undefined): Agent => {
  if (!staff) throw new AppError(401, 'unauthenticated', 'Sign in first');
  return { id: staff.user._id, name: staff.user.name, isAdmin: staff.user.roles.includes('admin') };
};

/** A reference code from the URL: malformed is 400, never a lookup. */
export function referenceOf(req: Request): string {
  const reference = String(req.params.ref ?? '').toUpperCase();
  if (!REFERENCE_PATTERN.test(reference)) throw AppError.badRequest('A reference code is 6 letters and digits');
  return reference;
}

export { queueView };

/** Default period for figures: the last 30 days. */
export function periodOf(query: { from?: Date; to?: Date }, now: Date): { from: Date; to: Date } {
  const to = query.to ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const from = query.from ?? new Date(to.getTime() - 30 * 86_400_000);
  if (from >= to) throw AppError.badRequest('from must be before to');
  if (to.getTime() - from.getTime() > 366 * 86_400_000) throw AppError.badRequest('at most one year at a time');
  return { from, to };
}

export function registerHotlineApi(api: ApiRegistry, deps: HotlineApiDeps): void {
  const queueSummary = 'Open callback requests, most urgent and soonest due first, a page at a time, with the open counts per status';
  api.add(
    { method: 'get', path: '/hotline/queue', summary: queueSummary, access: { roles: AGENTS }, query: queueQuery },
    async ({ query }) => {
      const { page, perPage, ...filters } = query;
      return queuePageOf(deps.store, filters, page, perPage, deps.now());
    },
  );

  api.add(
    {
      method: 'get',
      path: '/hotline/requests/:ref',
      summary: 'One callback request (any of its reference codes), without the number',
      access: { roles: AGENTS },
    },
    async ({ req }) => {
      const request = await deps.store.findByAnyReference(referenceOf(req));
      if (!request) throw AppError.notFound('No such callback request');
      return queueView(request, deps.now());
    },
  );

  const act = (
    path: string,
    summary: string,
    run: (reference: string, agent: Agent, ip: string, body: unknown) => Promise<unknown>,
    body?: z.ZodType,
  ) =>
    api.add(
      { method: 'post', path: `/hotline/requests/:ref/${path}`, summary, access: { roles: AGENTS }, body },
      async ({ req, staff, body: parsed }) => run(referenceOf(req), agentOf(staff), req.ip ?? '', parsed),
    );
  act('claim', 'Claim a request (409 if closed or held by someone else)', async (ref, agent, ip) =>
    queueView(await deps.work.claim(ref, agent, ip), deps.now()),
  );
  act('release', 'Put a claimed request back in the queue', async (ref, agent, ip) =>
    queueView(await deps.work.release(ref, agent, ip), deps.now()),
  );
  act('reveal', "Show the caller's number (audited)", async (ref, agent, ip) => ({ phone: await deps.work.reveal(ref, agent, ip) }));
  act(
    'attempts',
    'Log a call attempt',
    async (ref, agent, ip, body) => queueView(await deps.work.logAttempt(ref, agent, ip, body as z.infer<typeof attempt>), deps.now()),
    attempt,
  );
  act(
    'reschedule',
    "Set the next call time, inside the caller's window",
    async (ref, agent, ip, body) =>
      queueView(await deps.work.reschedule(ref, agent, ip, (body as z.infer<typeof reschedule>).at), deps.now()),
    reschedule,
  );
  act(
    'close',
    'Close with an outcome',
    async (ref, agent, ip, body) => queueView(await deps.work.close(ref, agent, ip, body as z.infer<typeof closing>), deps.now()),
    closing,
  );

  api.add(
    { method: 'get', path: '/hotline/reports', summary: 'Anonymous case reports, newest first', access: { roles: AGENTS } },
    async () => ({ reports: await deps.store.listReports(200) }),
  );

  api.add(
    {
      method: 'get',
      path: '/hotline/figures',
      summary: 'Counts, median time to first attempt, share handled in window, requests per day',
      access: { roles: FIGURES },
      query: period,
    },
    async ({ query, staff }) => {
      const { from, to } = periodOf(query, deps.now());
      const requests = await deps.store.createdBetween(from, to);
      return seesRows(staff) ? hotlineFigures(requests, from, to) : partnerFigures(requests, from, to);
    },
  );

  const exportSummary = 'Callback requests as CSV without numbers or notes (admins: one line per request; partners: aggregate cells)';
  api.add(
    { method: 'get', path: '/hotline/export.csv', summary: exportSummary, access: { roles: FIGURES }, query: period },
    async ({ query, res, staff, req }) => {
      const { from, to } = periodOf(query, deps.now());
      const requests = await deps.store.createdBetween(from, to);
      const rows = seesRows(staff);
      const details = { rows: requests.length, aggregate: !rows, from: from.toISOString(), to: to.toISOString() };
      await deps.audit.append({ actor: staff?.user._id ?? 'unknown', action: 'hotline.exported', ip: req.ip ?? '', details });
      const csv = rows ? hotlineCsv(requests) : partnerCsv(partnerFigures(requests, from, to));
      res
        .type('text/csv')
        .attachment(`hotline-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.csv`)
        .send(csv);
    },
  );

  api.add({ method: 'get', path: '/hotline/rota', summary: 'The duty rota (numbers masked)', access: { roles: ['admin'] } }, async () => ({
    shifts: (await deps.rota.list()).map(({ phoneSealed: _sealed, ...shift }) => shift),
  }));
  api.add(
    { method: 'post', path: '/hotline/rota', summary: 'Add a shift to the duty rota', access: { roles: ['admin'] }, body: shift },
    async ({ body, staff, req }) => {
      const id = await addShift(deps, body, staff);
      await deps.audit.append({ actor: staff?.user._id ?? 'unknown', action: 'hotline.rota_added', target: id, ip: req.ip ?? '' });
      return { id };
    },
  );
  api.add(
    { method: 'post', path: '/hotline/rota/:id/delete', summary: 'Remove a shift from the duty rota', access: { roles: ['admin'] } },
    async ({ req, staff }) => {
      const id = String(req.params.id ?? '');
      if (!z.string().uuid().safeParse(id).success) throw AppError.badRequest('id must be a shift id (uuid)');
      if (!(await deps.rota.remove(id))) throw AppError.notFound('No such shift');
      await deps.audit.append({ actor: staff?.user._id ?? 'unknown', action: 'hotline.rota_removed', target: id, ip: req.ip ?? '' });
      return { ok: true };
    },
  );
}

export const shiftSchema = shift;

export async function addShift(
  deps: Pick<HotlineApiDeps, 'rota' | 'protection' | 'now'>,
  input: z.infer<typeof shift>,
  staff: StaffContext | undefined,
): Promise<string> {
  const phone = toE164(input.phone);
  if (!phone) throw AppError.badRequest('phone: not a valid phone number');
  return deps.rota.add({
    name: input.name,
    phoneSealed: deps.protection.encrypt(phone),
    phoneMasked: maskPhone(phone),
    language: input.language,
    days: [...new Set(input.days)].sort(),
    from: input.from,
    to: input.to,
    createdAt: deps.now(),
    createdBy: staff?.user._id ?? 'unknown',
  });
}
