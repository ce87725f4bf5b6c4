import { AppError } from '../platform/app-error';
import type { PhoneProtection } from '../shared/phone-protection';
import type { AuditLog } from '../staff/audit-log';
import { CLOSING_OUTCOMES, insideWindow, isOpen, type ClosingOutcome } from './callback-policy';
import type { CallbackRequest, HotlineStore } from './hotline-store';
import type { WithLock } from '../platform/redis-lock';

export interface Agent {
  id: string;
  name: string;
  isAdmin: boolean;
}

export interface WorkDeps {
  store: HotlineStore;
  withLock: WithLock;
  protection: PhoneProtection;
  audit: AuditLog;
  now(): Date;
}

const conflict = (message: string): AppError => new AppError(409, 'conflict', message);

/**
 * What an agent does with a request, one use case each. Every change happens under the request's
 * lock, re-reads the request, and checks it may happen now; every step lands in the audit log.
 */
export function createCallbackWork(deps: WorkDeps) {
  async function change(
    reference: string,
    agent: Agent,
    ip: string,
    action: string,
    decide: (request: CallbackRequest) => Partial<CallbackRequest> | undefined,
    push?: Parameters<HotlineStore['updateRequest']>[2],
    details?: Record<string, string>,
  ): Promise<CallbackRequest> {
    return deps.withLock(`request:${reference}`, async () => {
      const request = await deps.store.findCallbackRequest(reference);
      if (!request) throw AppError.notFound('No such callback request');
      const set = decide(request);
      if (set) {
        await deps.store.updateRequest(reference, { ...set, updatedAt: deps.now() }, push);
        await deps.audit.append({ actor: agent.id, action, target: reference, ip, ...(details ? { details } : {}) });
        return (await deps.store.findCallbackRequest(reference)) ?? { ...request, ...set };
      }
      return request;
    });
  }

  /** Only the agent who claimed a request works it (an admin may step in). */
  const mustHold = (request: CallbackRequest, agent: Agent): void => {
    if (!isOpen(request.status)) throw conflict(`This request is closed (${request.status})`);
    if (request.claimedBy !== agent.id && !agent.isAdmin) {
      throw conflict(request.claimedBy ? `Claimed by ${request.claimedByName ?? 'another agent'}` : 'Claim this request first');
    }
  };

  return {
    /** Atomic: of two agents claiming at once, exactly one wins; the other learns who has it. */
    claim: (reference: string, agent: Agent, ip: string) =>
      change(reference, agent, ip, 'hotline.claimed', (request) => {
        if (!isOpen(request.status)) throw conflict(`This request is closed (${request.status})`);
        if (request.claimedBy === agent.id) return undefined;
        if (request.claimedBy) throw conflict(`Claimed by ${request.claimedByName ?? 'another agent'}`);
        return { status: 'claimed', claimedBy: agent.id, claimedByName: agent.name, claimedAt: deps.now() };
      }),

    release: (reference: string, agent: Agent, ip: string) =>
      change(reference, agent, ip, 'hotline.released', (request) => {
        mustHold(request, agent);
        return { status: request.attempts.length ? 'in_progress' : 'new', claimedBy: null, claimedByName: null, claimedAt: null };
      }),

    /** The caller's number, to the agent holding the request; audited every time. */
    async reveal(reference: string, agent: Agent, ip: string): Promise<string> {
      const request = await deps.store.findCallbackRequest(reference);
      if (!request) throw AppError.notFound('No such callback request');
      mustHold(request, agent);
      if (!request.phoneSealed) throw new AppError(410, 'gone', 'The number was erased');
      const phone = deps.protection.decrypt(request.phoneSealed);
      await deps.audit.append({ actor: agent.id, action: 'hotline.number_revealed', target: reference, ip });
      return phone;
    },

    logAttempt: (reference: string, agent: Agent, ip: string, attempt: { outcome: string; note: string }) => {
      const at = deps.now();
      return change(
        reference,
        agent,
        ip,
        'hotline.attempt_logged',
        (request) => {
          mustHold(request, agent);
          return { status: 'in_progress', firstAttemptAt: request.firstAttemptAt ?? at };
        },
        { attempts: { at, by: agent.id, byName: agent.name, outcome: attempt.outcome, note: attempt.note } },
        { outcome: attempt.outcome },
      );
    },

    /** A new time for the next call: in the future and inside the caller's safe window. */
    reschedule: (reference: string, agent: Agent, ip: string, at: Date) =>
      change(
        reference,
        agent,
        ip,
        'hotline.rescheduled',
        (request) => {
          mustHold(request, agent);
          if (at.getTime() <= deps.now().getTime()) throw AppError.badRequest('Pick a time in the future');
          if (!insideWindow(request.window, at)) throw AppError.badRequest(`Pick a time inside the caller's window (${request.window})`);
          return { dueAt: at };
        },
        undefined,
        { dueAt: at.toISOString() },
      ),

    async close(reference: string, agent: Agent, ip: string, closing: { outcome: ClosingOutcome; note: string }): Promise<CallbackRequest> {
      const closed = await change(
        reference,
        agent,
        ip,
        'hotline.closed',
        (request) => {
          mustHold(request, agent);
          return {
            status: CLOSING_OUTCOMES[closing.outcome],
            outcome: closing.outcome,
            closingNote: closing.note,
            closedAt: deps.now(),
            closedBy: agent.id,
          };
        },
        undefined,
        { outcome: closing.outcome },
      );
      // The number may ask again: its next request makes a new entry.
      if (closed.phoneHash) {
        const phoneHash = closed.phoneHash;
        await deps.withLock(`phone:${phoneHash}`, () => deps.store.clearOpenPointer(phoneHash, reference));
      }
      return closed;
    },
  };
}

export type CallbackWork = ReturnType<typeof createCallbackWork>;
