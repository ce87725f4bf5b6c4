import type { AddressInfo } from 'node:net';
import { createServer, type Pdu, type Server, type Session } from 'smpp';

/*
 * An operator's SMSC over SMPP 3.4, for Kannel's bearerbox to bind to, in tests and in `SMS_GATEWAY=kannel npm
 * run dev` (see shared/reference/kannel-smpp.md): it takes transceiver binds with one system id and password,
 * answers submit_sm with a decimal message id (Kannel's default msg-id-type reads both ids as decimal), joins
 * concatenated parts, records what arrived, sends delivery receipts as operators do (esm_class 0x04, "id:..
 * stat:DELIVRD err:000", receipted_message_id and message_state TLVs), sends MO SMS on demand, and can drop or
 * refuse binds. bearerbox re-binds by itself after a drop or a restart: whatever the simulator sends goes over the
 * newest bound session. A receipt with no bound session, or sent over a session that closed before bearerbox
 * acknowledged it, is kept and sent again on the next bind, as an SMSC stores and retries its deliver_sm.
 */

/** One SMS as the SMSC received it, its concatenated parts joined. */
export interface ReceivedSms {
  /** The simulator's own name (the SMSC id Kannel knows it by). */
  readonly smsc: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  /** data_coding of the (first) submit_sm: 0 GSM-7, 8 UCS-2. */
  readonly dataCoding: number;
  /** esm_class of the (first) submit_sm: 0x43 with UDH (concatenated), else 0x03 or 0. */
  readonly esmClass: number;
  readonly serviceType: string;
  readonly registeredDelivery: number;
  /** submit_sm PDUs it took: 1, or the number of concatenated parts. */
  readonly parts: number;
  /** The message ids answered, one per part. */
  readonly messageIds: readonly string[];
  /** TLVs by name (or by numeric tag when the package does not know them). */
  readonly tlvs: Readonly<Record<string, unknown>>;
  readonly at: number;
}

export interface SmscSimulatorOptions {
  /** The SMSC id this simulator plays (recorded with each message). */
  readonly name: string;
  readonly systemId?: string;
  readonly password?: string;
  /** Share (0..1) of receipts that say UNDELIV (Kannel: type 2); default 0. Deterministic: every 1/share-th. */
  readonly failureShare?: number;
  /** Wait before sending a receipt, in ms; default 50. */
  readonly receiptDelayMs?: number;
  /** Called with each complete message as it arrives (npm run dev shows them on the console's SMS emulator page). */
  readonly onReceived?: (sms: ReceivedSms) => void;
}

export interface MoSms {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  /** 0 GSM-7 (default), 8 UCS-2. */
  readonly coding?: 0 | 8;
}

export interface SmscSimulator {
  readonly name: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  /** Complete messages, in the order their last part arrived. */
  readonly received: ReceivedSms[];
  /** Receipts bearerbox acknowledged (deliver_sm_resp OK), by message id: 'DELIVRD' or 'UNDELIV'. */
  readonly receipts: Map<string, string>;
  /** Whether a bind is up now. */
  bound(): boolean;
  /** Resolves once a bind is up (after `since` binds in total, to wait for a re-bind). */
  waitForBind(timeoutMs?: number, since?: number): Promise<void>;
  /** Binds accepted so far. */
  binds(): number;
  sendMo(sms: MoSms): Promise<void>;
  /** Closes every bound session; with `refuse`, later binds are refused until `acceptBinds()`. */
  dropBinds(options?: { refuse?: boolean }): void;
  acceptBinds(): void;
  setFailureShare(share: number): void;
  setReceiptDelay(ms: number): void;
  close(): Promise<void>;
}

const BIND_COMMANDS = ['bind_transceiver', 'bind_transmitter', 'bind_receiver'] as const;
const ESME_RBINDFAIL = 0x0d;
const ESME_RINVPASWD = 0x0e;
const PDU_FIELDS = new Set([
  'command', 'command_length', 'command_id', 'command_status', 'sequence_number', 'service_type', 'source_addr_ton', 'source_addr_npi',
  'source_addr', 'dest_addr_ton', 'dest_addr_npi', 'destination_addr', 'esm_class', 'protocol_id', 'priority_flag',
  'schedule_delivery_time', 'validity_period', 'registered_delivery', 'replace_if_present_flag', 'data_coding', 'sm_default_msg_id',
  'sm_length', 'short_message',
]);

interface Part {
  readonly pdu: Pdu;
  readonly text: string;
  readonly messageId: string;
}

/** A delivery receipt for one part, its status fixed when first made so a resend says the same. */
interface Receipt {
  readonly part: Part;
  readonly stat: 'DELIVRD' | 'UNDELIV';
  readonly text: string;
}

/** The concatenation IE of a UDH (8-bit or 16-bit reference): its reference, part count and number. */
function concatenationOf(udh: readonly Buffer[] | undefined): { ref: number; total: number; seq: number } | undefined {
  for (const ie of udh ?? []) {
    if (ie[0] === 0x00 && ie.length >= 5) return { ref: ie[2] ?? 0, total: ie[3] ?? 1, seq: ie[4] ?? 1 };
    if (ie[0] === 0x08 && ie.length >= 6) return { ref: ((ie[2] ?? 0) << 8) | (ie[3] ?? 0), total: ie[4] ?? 1, seq: ie[5] ?? 1 };
  }
  return undefined;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const smppTime = (at: Date): string => at.toISOString().replace(/[-T:]/g, '').slice(2, 12);

export async function startSmscSimulator(options: SmscSimulatorOptions): Promise<SmscSimulator> {
  const systemId = options.systemId ?? 'safeline';
  const password = options.password ?? 'secret12';
  let failureShare = options.failureShare ?? 0;
  let receiptDelayMs = options.receiptDelayMs ?? 50;
  let refusing = false;
  let nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000) * 1_000;
  let bindCount = 0;
  let receiptCount = 0;
  const received: ReceivedSms[] = [];
  const receipts = new Map<string, string>();
  /** Bound sessions, newest last. */
  const live: Session[] = [];
  const pending = new Map<string, Part[]>();
  /** Receipts to send on the next bind, and those sent but not yet acknowledged, by the session carrying them. */
  const unsentReceipts: Receipt[] = [];
  const unacknowledged = new Map<Session, Set<Receipt>>();
  const timers = new Set<NodeJS.Timeout>();
  const bindWaiters: Array<() => void> = [];

  const newest = (): Session | undefined => live[live.length - 1];
  const later = (ms: number, work: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  };

  const receiptOf = (part: Part): Receipt => {
    receiptCount += 1;
    const failed = failureShare > 0 && receiptCount % Math.max(1, Math.round(1 / failureShare)) === 0;
    const stat = failed ? 'UNDELIV' : 'DELIVRD';
    const now = smppTime(new Date());
    const text =
      `id:${part.messageId} sub:001 dlvrd:${failed ? '000' : '001'} submit date:${now} done date:${now} ` +
      `stat:${stat} err:${failed ? '001' : '000'} text:`;
    return { part, stat, text };
  };

  const sendReceipt = (receipt: Receipt): void => {
    const session = newest();
    if (!session) return void unsentReceipts.push(receipt);
    const carried = unacknowledged.get(session) ?? new Set<Receipt>();
    unacknowledged.set(session, carried.add(receipt));
    const { part } = receipt;
    session.deliver_sm({
      source_addr: str(part.pdu.destination_addr),
      destination_addr: str(part.pdu.source_addr),
      esm_class: 0x04,
      data_coding: 0,
      short_message: receipt.text,
      receipted_message_id: part.messageId,
      message_state: receipt.stat === 'UNDELIV' ? 5 : 2,
    }, (resp) => {
      carried.delete(receipt);
      if (resp.command_status === 0) receipts.set(part.messageId, receipt.stat);
      else unsentReceipts.push(receipt);
    });
  };

  const record = (parts: readonly Part[]): void => {
    const first = parts[0];
    if (!first) return;
    const tlvs = Object.fromEntries(
      Object.entries(first.pdu).filter(([key, value]) => !PDU_FIELDS.has(key) && typeof value !== 'function'),
    );
    const sms: ReceivedSms = {
      smsc: options.name,
      from: str(first.pdu.source_addr),
      to: str(first.pdu.destination_addr),
      text: parts.map((part) => part.text).join(''),
      dataCoding: Number(first.pdu.data_coding ?? 0),
      esmClass: Number(first.pdu.esm_class ?? 0),
      serviceType: str(first.pdu.service_type),
      registeredDelivery: Number(first.pdu.registered_delivery ?? 0),
      parts: parts.length,
      messageIds: parts.map((part) => part.messageId),
      tlvs,
      at: Date.now(),
    };
    received.push(sms);
    options.onReceived?.(sms);
  };

  const onSubmit = (session: Session, pdu: Pdu): void => {
    nextId += 1;
    const messageId = String(nextId);
    session.send(pdu.response({ message_id: messageId }));
    const body = pdu.short_message as { message?: unknown; udh?: Buffer[] } | undefined;
    const part: Part = { pdu, text: typeof body?.message === 'string' ? body.message : '', messageId };
    const concat = concatenationOf(body?.udh);
    if (!concat) record([part]);
    else {
      const key = `${str(pdu.source_addr)}>${str(pdu.destination_addr)}#${concat.ref}/${concat.total}`;
      const parts = pending.get(key) ?? [];
      parts[concat.seq - 1] = part;
      pending.set(key, parts);
      if (parts.filter(Boolean).length === concat.total) {
        pending.delete(key);
        record(parts);
      }
    }
    if (Number(pdu.registered_delivery ?? 0) & 0x01) later(receiptDelayMs, () => sendReceipt(receiptOf(part)));
  };

  const server: Server = createServer({}, (session) => {
    session.on('error', () => undefined);
    session.socket.on('close', () => {
      const at = live.indexOf(session);
      if (at >= 0) live.splice(at, 1);
      unsentReceipts.push(...(unacknowledged.get(session) ?? []));
      unacknowledged.delete(session);
    });
    for (const command of BIND_COMMANDS) {
      session.on(command, (pdu) => {
        if (refusing) {
          session.send(pdu.response({ command_status: ESME_RBINDFAIL }));
          return void later(10, () => session.close());
        }
        if (pdu.system_id !== systemId || pdu.password !== password) {
          session.send(pdu.response({ command_status: ESME_RINVPASWD }));
          return void later(10, () => session.close());
        }
        session.send(pdu.response({ system_id: options.name }));
        live.push(session);
        bindCount += 1;
        bindWaiters.splice(0).forEach((wake) => wake());
        unsentReceipts.splice(0).forEach(sendReceipt);
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

  return {
    name: options.name,
    port,
    systemId,
    password,
    received,
    receipts,
    bound: () => live.length > 0,
    binds: () => bindCount,
    async waitForBind(timeoutMs = 15_000, since = 0) {
      if (live.length > 0 && bindCount > since) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no SMPP bind to simulator ${options.name} within ${timeoutMs} ms`)), timeoutMs);
        const wake = (): void => {
          if (bindCount <= since) return void bindWaiters.push(wake);
          clearTimeout(timer);
          resolve();
        };
        bindWaiters.push(wake);
      });
    },
    sendMo(sms) {
      const session = newest();
      if (!session) return Promise.reject(new Error(`simulator ${options.name} has no bound session`));
      return new Promise((resolve, reject) => {
        const sent = session.deliver_sm(
          {
            source_addr_ton: sms.from.length > 8 ? 1 : 0,
            source_addr_npi: 1,
            source_addr: sms.from,
            destination_addr: sms.to,
            esm_class: 0,
            data_coding: sms.coding ?? 0,
            short_message: sms.text,
          },
          (resp) => (resp.command_status === 0 ? resolve() : reject(new Error(`deliver_sm refused: status ${resp.command_status}`))),
        );
        if (!sent) reject(new Error('the bound session is not writable'));
      });
    },
    dropBinds(drop = {}) {
      if (drop.refuse) refusing = true;
      for (const session of live.splice(0)) session.destroy();
    },
    acceptBinds() {
      refusing = false;
    },
    setFailureShare(share) {
      failureShare = share;
    },
    setReceiptDelay(ms) {
      receiptDelayMs = ms;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const session of [...server.sessions]) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
