import type { AddressInfo } from 'node:net';
import { createServer, type Pdu, type Server, type Session } from 'smpp';

/*
 * An operator's USSD gateway over SMPP 3.4 (see shared/reference/kannel-smpp.md), for Kannel's bearerbox to bind
 * to with service-type USSD: a phone's dial is a deliver_sm with service_type "USSD", ussd_service_op 1 and the
 * session in its_session_info; each answer the phone types is op 18 with the same session. The application's
 * screens come back as submit_sm (op 2: a menu, 17: the last screen). Each hop resolves with the screen that
 * answered it (matched by the phone's number: one hop at a time per phone), with the time it took.
 */

export interface UssdScreen {
  /** The phone the screen went to (Kannel sends it without "+"). */
  readonly to: string;
  readonly text: string;
  readonly serviceType: string;
  /** 0 GSM-7, 8 UCS-2. */
  readonly dataCoding: number;
  /** ussd_service_op of the submit_sm (undefined: no TLV). */
  readonly op?: number;
  /** its_session_info of the submit_sm (undefined: no TLV). */
  readonly session?: Buffer;
  /** From the deliver_sm to this submit_sm. */
  readonly ms: number;
}

export interface UssdHopOptions {
  /** Leave out both TLVs (a gateway fault, or a misconfigured bind). */
  readonly withoutTlvs?: boolean;
  readonly timeoutMs?: number;
}

export interface UssdSmscSimulator {
  readonly name: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly serviceType: 'USSD';
  /** Every submit_sm received, in order. */
  readonly screens: UssdScreen[];
  waitForBind(timeoutMs?: number): Promise<void>;
  /** The phone dials `code` (op 1) in session `session`. */
  dial(phone: string, session: Buffer, code?: string, options?: UssdHopOptions): Promise<UssdScreen>;
  /** The phone answers the screen on show (op 18). */
  answer(phone: string, session: Buffer, text: string, options?: UssdHopOptions): Promise<UssdScreen>;
  close(): Promise<void>;
}

const BIND_COMMANDS = ['bind_transceiver', 'bind_transmitter', 'bind_receiver'] as const;
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

export async function startUssdSmscSimulator(options: { name: string; systemId?: string; password?: string }): Promise<UssdSmscSimulator> {
  const systemId = options.systemId ?? 'safeline';
  const password = options.password ?? 'secret12';
  const live: Session[] = [];
  const screens: UssdScreen[] = [];
  const waiting = new Map<string, { sentAt: number; resolve: (screen: UssdScreen) => void }>();
  const bindWaiters: Array<() => void> = [];
  let nextId = 5_000_000;

  const onSubmit = (session: Session, pdu: Pdu): void => {
    nextId += 1;
    session.send(pdu.response({ message_id: String(nextId) }));
    const body = pdu.short_message as { message?: unknown } | undefined;
    const to = str(pdu.destination_addr).replace(/^\+/, '');
    const waiter = waiting.get(to);
    const sessionInfo = pdu.its_session_info;
    const screen: UssdScreen = {
      to,
      text: typeof body?.message === 'string' ? body.message : '',
      serviceType: str(pdu.service_type),
      dataCoding: Number(pdu.data_coding ?? 0),
      op: typeof pdu.ussd_service_op === 'number' ? pdu.ussd_service_op : undefined,
      session: Buffer.isBuffer(sessionInfo) ? sessionInfo : undefined,
      ms: waiter ? performance.now() - waiter.sentAt : 0,
    };
    screens.push(screen);
    if (waiter) {
      waiting.delete(to);
      waiter.resolve(screen);
    }
  };

  const server: Server = createServer({}, (session) => {
    session.on('error', () => undefined);
    session.socket.on('close', () => {
      const at = live.indexOf(session);
      if (at >= 0) live.splice(at, 1);
    });
    for (const command of BIND_COMMANDS) {
      session.on(command, (pdu) => {
        if (pdu.system_id !== systemId || pdu.password !== password) return void session.send(pdu.response({ command_status: 0x0e }));
        session.send(pdu.response({ system_id: options.name }));
        live.push(session);
        bindWaiters.splice(0).forEach((wake) => wake());
      });
    }
    session.on('submit_sm', (pdu) => onSubmit(session, pdu));
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => {
      session.send(pdu.response());
      session.close();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const hop = (phone: string, session: Buffer, op: number, text: string, hopOptions: UssdHopOptions = {}): Promise<UssdScreen> => {
    const bound = live[live.length - 1];
    if (!bound) return Promise.reject(new Error(`USSD simulator ${options.name}: no bound session`));
    const from = phone.replace(/^\+/, '');
    if (waiting.has(from)) return Promise.reject(new Error(`USSD simulator: a hop of ${from} is still waiting`));
    const timeoutMs = hopOptions.timeoutMs ?? 10_000;
    return new Promise<UssdScreen>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(from);
        reject(new Error(`USSD simulator: no screen for ${from} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(from, {
        sentAt: performance.now(),
        resolve: (screen) => {
          clearTimeout(timer);
          resolve(screen);
        },
      });
      const tlvs = hopOptions.withoutTlvs ? {} : { ussd_service_op: op, its_session_info: session };
      bound.deliver_sm(
        {
          service_type: 'USSD', source_addr_ton: 1, source_addr_npi: 1, source_addr: from, dest_addr_ton: 0,
          destination_addr: '384', esm_class: 0, data_coding: 0, short_message: text, ...tlvs,
        },
        (resp) => {
          if (resp.command_status !== 0) reject(new Error(`deliver_sm refused: status ${resp.command_status}`));
        },
      );
    });
  };

  return {
    name: options.name,
    port,
    systemId,
    password,
    serviceType: 'USSD',
    screens,
    async waitForBind(timeoutMs = 15_000) {
      if (live.length > 0) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no SMPP bind to USSD simulator ${options.name} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        bindWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    dial: (phone, session, code = '*384#', hopOptions) => hop(phone, session, 1, code, hopOptions),
    answer: (phone, session, text, hopOptions) => hop(phone, session, 18, text, hopOptions),
    async close() {
      for (const session of [...server.sessions]) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
