import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { analyzeText } from '../../src/shared/sms-encoding';

/**
 * A local Africa's Talking SMS API over real HTTP, for the gateway's and the campaigns' tests: it answers
 * `POST /version1/messaging` as AT does (shared/reference/africastalking.md), lets a test decide what each
 * number or the next request gets, counts what it accepted per number (to find duplicates), and can post
 * delivery reports back. Everything is in memory; 10,000 recipients take milliseconds.
 */

/** AT's per-recipient status codes and the `status` text it sends with each. */
export const AT_STATUS: Readonly<Record<number, string>> = {
  100: 'Processed',
  101: 'Success',
  102: 'Queued',
  401: 'RiskHold',
  402: 'InvalidSenderId',
  403: 'InvalidPhoneNumber',
  404: 'UnsupportedNumberType',
  405: 'InsufficientBalance',
  406: 'UserInBlacklist',
  407: 'CouldNotRoute',
  409: 'DoNotDisturbRejection',
  500: 'InternalServerError',
  501: 'GatewayError',
  502: 'RejectedByGateway',
};
export const AT_AUTH_FAILURE = 'The supplied authentication is invalid';

export interface FakeAfricasTalkingOptions {
  /** Default "safeline". */
  readonly username?: string;
  /** Default: random. */
  readonly apiKey?: string;
  /** Default "XOF", 20 per SMS part. */
  readonly currency?: string;
  readonly costPerPart?: number;
  /** Share (0..1) of recipients answered 500 InternalServerError at random; default 0. */
  readonly transientRate?: number;
  /** Share (0..1) of requests answered HTTP 500 as a whole (nobody in them accepted) at random; default 0. */
  readonly callFailureRate?: number;
  /** Seed of that randomness (and of delivery-report failures); default 1. */
  readonly seed?: number;
  /** Delay before every answer, in ms; default 0. */
  readonly latencyMs?: number;
  /** When set, any other `from` gets AT's answer to an unknown sender: Message "InvalidSenderId", no Recipients. */
  readonly senderIds?: readonly string[];
  /** Code of a recipient nothing else decides; default 101. */
  readonly acceptedStatusCode?: 100 | 101 | 102;
}

/** One request as the fake received it: the form fields and the `apikey` header. */
export interface ReceivedSmsRequest {
  readonly username: string | null;
  readonly apikey: string | undefined;
  readonly accept: string | undefined;
  readonly contentType: string | undefined;
  readonly to: readonly string[];
  readonly message: string | null;
  readonly from: string | null;
  readonly bulkSMSMode: string | null;
  readonly enqueue: string | null;
  readonly fields: Readonly<Record<string, string>>;
}

/** What the fake accepted (status 100-102): one entry per recipient and request. */
export interface AcceptedSms {
  readonly messageId: string;
  readonly number: string;
  readonly message: string;
  readonly from: string | null;
  readonly parts: number;
  readonly cost: string;
  /** When the fake accepted it (ms since the epoch). */
  readonly at: number;
}

/** A whole-request answer that replaces the normal one. */
export type FakeResponse =
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly contentType?: string }
  | { readonly kind: 'json'; readonly body: unknown; readonly status?: number }
  /** Never answers (until close): for timeouts. */
  | { readonly kind: 'hang' }
  /** Closes the connection without an answer: a network error. */
  | { readonly kind: 'drop' };

/** Decides a number's status code; `attempt` counts the requests that named it, this one included (1-based). */
export type StatusRule = number | ((number: string, attempt: number) => number | undefined);

export interface DeliveryReportOptions {
  /** Wait before posting the reports of an accepted request; default 0. */
  readonly delayMs?: number;
  /** Share (0..1) of reports that say Failed (DeliveryFailure) rather than Success; default 0. */
  readonly failureRate?: number;
  /** Default "61002" (Orange Mali). */
  readonly networkCode?: string;
  /** Share (0..1) of reports posted a second time (a repeat), right after the first; default 0. */
  readonly repeatRate?: number;
  /** Share (0..1) of reports held back `lateMs` longer than the others; default 0. */
  readonly lateRate?: number;
  readonly lateMs?: number;
  /** When set, a report not answered 2xx is posted again after this many ms (as a gateway retries), up to 100 times. */
  readonly retryMs?: number;
}

export interface PostedDeliveryReport {
  readonly fields: Readonly<Record<string, string>>;
  /** The receiver's HTTP status, or 0 when the post failed. */
  readonly httpStatus: number;
}

/** A request held by `holdNext`: its answer is decided (and accepted, with its reports) on arrival, written on release. */
export interface HeldRequest {
  /** Resolves when the held request has arrived (what it accepted is in `accepted` by then). */
  readonly arrived: Promise<ReceivedSmsRequest>;
  /** Writes the answer now (to nobody if the caller is gone). */
  release(): void;
}

export interface FakeAfricasTalking {
  /** The base URL, for the gateway's `baseUrl` / AT_BASE_URL. */
  readonly url: string;
  readonly username: string;
  readonly apiKey: string;
  readonly requests: ReceivedSmsRequest[];
  readonly accepted: AcceptedSms[];
  readonly deliveryReports: PostedDeliveryReport[];
  /** This number's status code from now on (a code, or a function of the number and attempt). */
  statusFor(number: string, rule: StatusRule): void;
  /** A rule for every number without its own; `undefined` from it falls through to the random mix. */
  statusBy(rule: ((number: string, attempt: number) => number | undefined) | undefined): void;
  /** The next `times` requests get this answer instead. */
  respondNext(response: FakeResponse, times?: number): void;
  /**
   * Holds the answer of the next request (after `skip` more): a test decides when the caller hears it,
   * to stop a store or kill a worker while the gateway has taken the messages and not yet answered.
   */
  holdNext(skip?: number): HeldRequest;
  setTransientRate(rate: number): void;
  /** How many times this number was accepted (more than once: a duplicate). */
  sentCount(number: string): number;
  /** How many requests named this number, whatever their answer. */
  attempts(number: string): number;
  /** Numbers accepted more than once. */
  duplicates(): string[];
  /** Posts AT's delivery-report form for every recipient accepted from now on. */
  deliveryReportsTo(url: string, options?: DeliveryReportOptions): void;
  /** Resolves once every report due so far has been posted. */
  deliveryReportsSettled(): Promise<void>;
  /** Forgets requests, counts, rules, queued answers and the report target (not the options). */
  reset(): void;
  close(): Promise<void>;
}

/** mulberry32: small, fast and seedable, so a "random" failure mix repeats from run to run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stand-in response that keeps what was written, to write it later to the real one (or drop the socket). */
function bufferedResponse(): { res: ServerResponse; replay(req: IncomingMessage, res: ServerResponse): void } {
  let head: { status: number; headers: Record<string, string> } | undefined;
  let body: string | undefined;
  const res = {
    writeHead(status: number, headers: Record<string, string> = {}) {
      head = { status, headers };
      return res;
    },
    end(text?: string) {
      body = text ?? '';
    },
  } as unknown as ServerResponse;
  return {
    res,
    replay(req, real) {
      if (real.destroyed || req.socket.destroyed) return;
      if (!head) return; // a 'hang' stays hung
      real.writeHead(head.status, head.headers).end(body);
    },
  };
}

export async function startFakeAfricasTalking(options: FakeAfricasTalkingOptions = {}): Promise<FakeAfricasTalking> {
  const username = options.username ?? 'safeline';
  const apiKey = options.apiKey ?? `atsk_${randomBytes(16).toString('hex')}`;
  const currency = options.currency ?? 'XOF';
  const costPerPart = options.costPerPart ?? 20;
  const acceptedCode = options.acceptedStatusCode ?? 101;
  const random = seeded(options.seed ?? 1);
  const idPrefix = `ATXid_${randomBytes(6).toString('hex')}_`;
  let transientRate = options.transientRate ?? 0;
  const callFailureRate = options.callFailureRate ?? 0;
  let sequence = 0;

  const requests: ReceivedSmsRequest[] = [];
  const accepted: AcceptedSms[] = [];
  const deliveryReports: PostedDeliveryReport[] = [];
  const rules = new Map<string, StatusRule>();
  let defaultRule: ((number: string, attempt: number) => number | undefined) | undefined;
  const attemptCounts = new Map<string, number>();
  const sentCounts = new Map<string, number>();
  let overrides: FakeResponse[] = [];
  let holds: Array<{ skip: number; arrived(received: ReceivedSmsRequest): void; released: Promise<void> }> = [];
  const timers = new Set<NodeJS.Timeout>();

  // Delivery reports: a queue drained by a few concurrent posts over one keep-alive agent, destroyed on close.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let reportTarget: { url: URL; options: DeliveryReportOptions } | undefined;
  let reportQueue: Array<Record<string, string>> = [];
  const reportTries = new WeakMap<Record<string, string>, number>();
  let reportHead = 0;
  let reportsInFlight = 0;
  let reportsDelayed = 0;
  let settledWaiters: Array<() => void> = [];
  let closed = false;

  const after = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  function checkSettled(): void {
    if (reportsInFlight === 0 && reportsDelayed === 0 && reportHead >= reportQueue.length) {
      reportQueue = [];
      reportHead = 0;
      const waiters = settledWaiters;
      settledWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function pumpReports(): void {
    while (!closed && reportTarget && reportsInFlight < 16 && reportHead < reportQueue.length) {
      const fields = reportQueue[reportHead++]!;
      const body = new URLSearchParams(fields).toString();
      const { url } = reportTarget;
      reportsInFlight += 1;
      const done = (httpStatus: number): void => {
        deliveryReports.push({ fields, httpStatus });
        reportsInFlight -= 1;
        const retryMs = reportTarget?.options.retryMs;
        const tries = (reportTries.get(fields) ?? 0) + 1;
        if (retryMs !== undefined && (httpStatus < 200 || httpStatus > 299) && tries < 100) {
          reportTries.set(fields, tries);
          reportsDelayed += 1;
          after(retryMs, () => {
            reportsDelayed -= 1;
            reportQueue.push(fields);
            pumpReports();
          });
        }
        pumpReports();
      };
      const post = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', () => done(0));
      });
      post.on('error', () => done(0));
      post.end(body);
    }
    checkSettled();
  }

  function queueReports(sent: AcceptedSms[]): void {
    const target = reportTarget;
    if (!target || sent.length === 0) return;
    const { failureRate = 0, repeatRate = 0, lateRate = 0, lateMs = 0 } = target.options;
    const reports = sent.map((sms) => {
      const failed = failureRate > 0 && random() < failureRate;
      return {
        id: sms.messageId,
        status: failed ? 'Failed' : 'Success',
        phoneNumber: sms.number,
        networkCode: target.options.networkCode ?? '61002',
        ...(failed ? { failureReason: 'DeliveryFailure' } : {}),
        retryCount: '0',
      };
    });
    const onTime: Array<Record<string, string>> = [];
    const late: Array<Record<string, string>> = [];
    for (const report of reports) {
      const wave = lateRate > 0 && random() < lateRate ? late : onTime;
      wave.push(report);
      // A repeat is a copy of its own (retried on its own), posted in the same wave as its original.
      if (repeatRate > 0 && random() < repeatRate) wave.push({ ...report });
    }
    const post = (batch: Array<Record<string, string>>, ms: number): void => {
      if (batch.length === 0) return;
      reportsDelayed += 1;
      after(ms, () => {
        reportsDelayed -= 1;
        for (const report of batch) reportQueue.push(report);
        pumpReports();
      });
    };
    post(onTime, target.options.delayMs ?? 0);
    post(late, (target.options.delayMs ?? 0) + lateMs);
  }

  function statusCodeFor(number: string, attempt: number): number {
    const rule = rules.get(number);
    let code = typeof rule === 'function' ? rule(number, attempt) : rule;
    code ??= defaultRule?.(number, attempt);
    if (code === undefined && transientRate > 0 && random() < transientRate) code = 500;
    return code ?? acceptedCode;
  }

  function answer(received: ReceivedSmsRequest, res: ServerResponse): void {
    if (received.apikey !== apiKey || received.username !== username) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(AT_AUTH_FAILURE);
      return;
    }
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (options.senderIds && received.from !== null && !options.senderIds.includes(received.from)) {
      json(201, { SMSMessageData: { Message: 'InvalidSenderId', Recipients: [] } });
      return;
    }
    const message = received.message ?? '';
    const { parts } = analyzeText(message);
    const cost = `${currency} ${(costPerPart * parts).toFixed(4)}`;
    const sent: AcceptedSms[] = [];
    const recipients = received.to.map((number) => {
      const attempt = (attemptCounts.get(number) ?? 0) + 1;
      attemptCounts.set(number, attempt);
      const statusCode = statusCodeFor(number, attempt);
      const status = AT_STATUS[statusCode] ?? 'Unknown';
      if (statusCode < 100 || statusCode > 102) return { statusCode, number, status, cost: '0', messageId: 'None' };
      const messageId = `${idPrefix}${++sequence}`;
      sentCounts.set(number, (sentCounts.get(number) ?? 0) + 1);
      sent.push({ messageId, number, message, from: received.from, parts, cost, at: Date.now() });
      return { statusCode, number, status, cost, messageId };
    });
    for (const sms of sent) accepted.push(sms);
    const total = `${currency} ${(costPerPart * parts * sent.length).toFixed(4)}`;
    json(201, { SMSMessageData: { Message: `Sent to ${sent.length}/${recipients.length} Total Cost: ${total}`, Recipients: recipients } });
    queueReports(sent);
  }

  /** Decides the answer now and writes it once `released` resolves (at once without a hold). */
  function respondHeld(received: ReceivedSmsRequest, req: IncomingMessage, res: ServerResponse): void {
    const next = holds[0];
    if (next && next.skip-- <= 0) {
      holds.shift();
      const buffered = bufferedResponse();
      respond(received, req, buffered.res);
      next.arrived(received);
      void next.released.then(() => buffered.replay(req, res));
      return;
    }
    respond(received, req, res);
  }

  function respond(received: ReceivedSmsRequest, req: IncomingMessage, res: ServerResponse): void {
    const override = overrides.shift() ?? (callFailureRate > 0 && random() < callFailureRate ? { kind: 'status', status: 500 } as const : undefined);
    if (!override) return answer(received, res);
    switch (override.kind) {
      case 'hang':
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'json':
        res.writeHead(override.status ?? 201, { 'content-type': 'application/json' }).end(JSON.stringify(override.body));
        return;
      case 'status': {
        const body = override.body ?? (override.status === 401 ? AT_AUTH_FAILURE : `fake Africa's Talking: HTTP ${override.status}`);
        res.writeHead(override.status, { 'content-type': override.contentType ?? 'text/plain' }).end(body);
      }
    }
  }

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/version1/messaging') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const to = form.get('to');
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const received: ReceivedSmsRequest = {
        username: form.get('username'),
        apikey: header('apikey'),
        accept: header('accept'),
        contentType: header('content-type'),
        to: to ? to.split(',').map((number) => number.trim()).filter(Boolean) : [],
        message: form.get('message'),
        from: form.get('from'),
        bulkSMSMode: form.get('bulkSMSMode'),
        enqueue: form.get('enqueue'),
        fields: Object.fromEntries(form),
      };
      requests.push(received);
      if (options.latencyMs) after(options.latencyMs, () => respondHeld(received, req, res));
      else respondHeld(received, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    username,
    apiKey,
    requests,
    accepted,
    deliveryReports,
    statusFor: (number, rule) => void rules.set(number, rule),
    statusBy: (rule) => void (defaultRule = rule),
    respondNext: (response, times = 1) => void overrides.push(...Array.from({ length: times }, () => response)),
    holdNext(skip = 0) {
      let release = (): void => undefined;
      let arrived = (_: ReceivedSmsRequest): void => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const arrival = new Promise<ReceivedSmsRequest>((resolve) => (arrived = resolve));
      holds.push({ skip, arrived, released });
      return { arrived: arrival, release };
    },
    setTransientRate: (rate) => void (transientRate = rate),
    sentCount: (number) => sentCounts.get(number) ?? 0,
    attempts: (number) => attemptCounts.get(number) ?? 0,
    duplicates: () => [...sentCounts].filter(([, count]) => count > 1).map(([number]) => number),
    deliveryReportsTo: (url, reportOptions = {}) => void (reportTarget = { url: new URL(url), options: reportOptions }),
    deliveryReportsSettled: () => new Promise<void>((resolve) => {
      settledWaiters.push(resolve);
      checkSettled();
    }),
    reset() {
      requests.length = 0;
      accepted.length = 0;
      deliveryReports.length = 0;
      rules.clear();
      defaultRule = undefined;
      attemptCounts.clear();
      sentCounts.clear();
      overrides = [];
      holds = [];
      reportTarget = undefined;
      transientRate = options.transientRate ?? 0;
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      reportsDelayed = 0;
      reportHead = reportQueue.length;
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      checkSettled();
    },
  };
}
