/**
 * What bench:campaign sends through, each started before safeline's processes (they need its variables):
 * - the fake of Africa's Talking the tests use (`tests/support/fake-africastalking.ts`), in this process,
 *   posting a report for every message to /sms/delivery 2 s after its send;
 * - Kannel 1.4.5's bearerbox + smsbox (`src/dev-services/kannel.ts`, as the Kannel tests start them) bound to the
 *   SMPP simulator of an operator's SMSC (`src/dev-services/smpp-simulator.ts`, in this process), which sends a
 *   receipt 2 s after each submit_sm; Kannel calls /sms/kannel/delivery for each (type 8 when the SMSC took
 *   the message, type 1 when the receipt came).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../tests/support/fake-africastalking';
import { startKannel, type RunningKannel } from '../src/dev-services/kannel';
import { startSmscSimulator, type SmscSimulator } from '../src/dev-services/smpp-simulator';
import { TEXT } from './campaign-run';
import { onCleanup, processCpuMs, stats } from './support';

/** As AT does, reports come a little after the send (see bench/README.md: posted at once, they overtake the send's record). */
const REPORT_DELAY_MS = 2_000;

export interface BenchGateway {
  readonly name: 'africastalking' | 'kannel';
  /** SMS_GATEWAY and its variables, for the api and the worker. */
  readonly env: Readonly<Record<string, string>>;
  /** CPU time (ms) of the gateway's own processes (bearerbox, smsbox); the fake and the simulator run in this process. */
  cpuMs(): Record<string, number>;
  /** Numbers the gateway took more than once. */
  duplicates(): number;
  /** What the gateway's side saw (Kannel: its throughput setting, submit_sm per second at the SMSC, receipts). */
  summary(): Record<string, unknown>;
  close(): Promise<void>;
}

/** How many numbers appear more than once. */
const repeated = (numbers: Iterable<string>): number => {
  const seen = new Set<string>();
  let twice = 0;
  for (const number of numbers) if (seen.has(number)) twice += 1; else seen.add(number);
  return twice;
};

export async function atFakeGateway(apiUrl: string, token: string): Promise<BenchGateway & { readonly fake: FakeAfricasTalking }> {
  const fake = await startFakeAfricasTalking();
  onCleanup(() => fake.close());
  fake.deliveryReportsTo(`${apiUrl}/sms/delivery?token=${token}`, { delayMs: REPORT_DELAY_MS });
  return {
    name: 'africastalking',
    fake,
    env: { SMS_GATEWAY: 'africastalking', AT_USERNAME: fake.username, AT_API_KEY: fake.apiKey, AT_BASE_URL: fake.url },
    cpuMs: () => ({}),
    duplicates: () => fake.duplicates().length,
    summary: () => ({ accepted: fake.accepted.length, reportDelayMs: REPORT_DELAY_MS }),
    close: () => fake.close(),
  };
}

/** Requests one worker keeps in flight to sendsms: 4 batches at a time (campaigns-module.ts), 10 requests each (kannel-gateway.ts). */
const WORKER_IN_FLIGHT = 40;
const SENDER = 'SAFELINE';
/** Numbers the probe sends to, outside the campaign's audience (+2237...). */
const PROBE_PREFIX = '+2238';
const isProbe = (to: string): boolean => to.replace(/^\+?/, '+').startsWith(PROBE_PREFIX);

/**
 * Kannel's own ceiling before safeline starts: `requests` sendsms calls from this process, WORKER_IN_FLIGHT at a
 * time (the same as one worker), no receipt asked; waits until the SMSC has them all.
 */
async function probeSendsms(kannel: RunningKannel, smsc: SmscSimulator, requests: number) {
  const latencies: number[] = [];
  let next = 0;
  let refused = 0;
  const started = performance.now();
  const sender = async (): Promise<void> => {
    while (next < requests) {
      const to = `${PROBE_PREFIX}${String(1_000_000 + (next += 1)).padStart(7, '0')}`;
      const { username, password } = kannel;
      const query = new URLSearchParams({ username, password, to, text: TEXT, smsc: smsc.name, charset: 'UTF-8', from: SENDER });
      const sentAt = performance.now();
      const res = await fetch(`${kannel.sendsmsUrl}?${query.toString()}`);
      await res.text();
      latencies.push(performance.now() - sentAt);
      if (res.status !== 202) refused += 1;
    }
  };
  await Promise.all(Array.from({ length: WORKER_IN_FLIGHT }, sender));
  const answeredMs = performance.now() - started;
  const atSmsc = (): number => smsc.received.filter((sms) => isProbe(sms.to)).length;
  for (const deadline = Date.now() + 60_000; atSmsc() < requests - refused && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const atSmscMs = performance.now() - started;
  const { p50Ms, p99Ms } = stats(latencies);
  const perSecond = (ms: number): number => Math.round(requests / (ms / 1_000));
  return {
    requests, inFlight: WORKER_IN_FLIGHT, refused, p50Ms, p99Ms,
    answeredPerSecond: perSecond(answeredMs), atSmscPerSecond: perSecond(atSmscMs),
  };
}

/**
 * `throughput`: the smsc group's `throughput` (messages per second bearerbox sends over the bind); 0 leaves it
 * unset, and bearerbox sends as fast as the SMSC answers (its SMPP window, `max-pending-submits`, is Kannel's
 * default of 10).
 */
export async function kannelGateway(options: {
  apiUrl: string;
  token: string;
  throughput: number;
  dir: string;
  /** sendsms calls of the probe before the campaign (probeSendsms). */
  probeRequests: number;
}): Promise<BenchGateway> {
  const smsc = await startSmscSimulator({ name: 'bench', receiptDelayMs: REPORT_DELAY_MS });
  onCleanup(() => smsc.close());
  const moUrl = `${options.apiUrl}/sms/kannel/inbound?token=${options.token}&from=%p&to=%P&text=%a&smsc=%i&coding=%c&charset=%C&id=%I`;
  const bind = { ...smsc, ...(options.throughput > 0 ? { throughput: options.throughput } : {}) };
  const kannel = await startKannel({ smscs: [bind], moUrl, dir: join(options.dir, 'kannel') });
  onCleanup(() => rmSync(options.dir, { recursive: true, force: true }));
  onCleanup(() => kannel.stop(), { first: true });
  // The boxes' PIDs now: a box that exits keeps its last reading (nothing restarts them during the bench).
  const last = new Map<number, number>();
  const boxCpu = (pids: readonly number[]): number =>
    pids.reduce((sum, pid) => {
      const ms = processCpuMs(pid);
      if (ms !== undefined) last.set(pid, ms);
      return sum + (last.get(pid) ?? 0);
    }, 0);
  const { bearerbox, smsbox } = kannel.pids();
  // Before safeline starts: the campaign's CPU figures are read after it.
  const probe = await probeSendsms(kannel, smsc, options.probeRequests);
  const campaignAtSmsc = () => smsc.received.filter((sms) => !isProbe(sms.to));
  return {
    name: 'kannel',
    env: {
      SMS_GATEWAY: 'kannel',
      KANNEL_SENDSMS_URL: kannel.sendsmsUrl,
      KANNEL_USERNAME: kannel.username,
      KANNEL_PASSWORD: kannel.password,
      KANNEL_SMSC: smsc.name,
      // Kannel needs a sender (400 "Sender missing" without one); AT's account has its default.
      SMS_SENDER_ID: SENDER,
      KANNEL_ADMIN_URL: kannel.adminUrl,
      KANNEL_ADMIN_PASSWORD: kannel.adminPassword,
      // Receipts to the api, as a deployment points Kannel at it (the worker's own URL serves no callbacks).
      KANNEL_CALLBACK_BASE_URL: options.apiUrl,
    },
    cpuMs: () => ({ bearerbox: boxCpu(bearerbox), smsbox: boxCpu(smsbox) }),
    duplicates: () => repeated(campaignAtSmsc().map((sms) => sms.to)),
    summary: () => {
      const received = campaignAtSmsc();
      const spanS = ((received[received.length - 1]?.at ?? 0) - (received[0]?.at ?? 0)) / 1_000;
      return {
        throughputSetting: options.throughput > 0 ? options.throughput : 'unset (no limit)',
        maxPendingSubmits: 10,
        receivedAtSmsc: received.length,
        submitsPerSecondAtSmsc: spanS > 0 ? Math.round(received.length / spanS) : null,
        receiptsAcknowledged: smsc.receipts.size,
        receiptDelayMs: REPORT_DELAY_MS,
        sendsmsAlone: probe,
      };
    },
    close: async () => {
      await kannel.stop();
      await smsc.close();
    },
  };
}
