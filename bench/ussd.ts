/**
 * `npm run bench:ussd [-- --only a,b,c] [--role api|all]`: the same 3-level USSD menu served three
 * ways, driven one after the other by autocannon with realistic Africa's Talking callbacks:
 *   (a) a bare Express app answering a constant `CON ...` (the ceiling: HTTP + form parsing only);
 *   (b) ussd-menu-builder 1.2 with a Redis session store, a fresh `new UssdMenu()` per request;
 *   (c) safeline itself (startSafeline with src/modules.ts, role api unless --role all),
 *       `POST /ussd?token=...`, on the embedded MongoDB-compatible server over a fresh PostgreSQL
 *       database and the local Redis.
 * Every autocannon connection plays whole sessions: a new sessionId and phone number, then the hops
 * text "" -> "1" -> "1*1" -> "1*1*2" (language, main menu, learn, a topic), then the next session.
 * Every reply is checked: HTTP 200, a body starting with `CON ` or `END `, text/plain, and the kind
 * each hop should have (EXPECTED_KINDS).
 *
 * Per server:
 *   - throughput: 50 connections for 10 s after a 3 s warm-up (discarded): requests/s, p50/p99, errors;
 *   - latency at a fixed rate of 1,000 requests/s (autocannon `overallRate`) for 10 s: p50/p99/max,
 *     spread evenly over each second (the goal's measurement), then with autocannon's own limiter
 *     (each connection's share sent back to back at the start of every second) for comparison.
 * Latencies are each response's own time (taken from autocannon's per-response event, sub-millisecond,
 * no coordinated-omission correction). The load generator runs in a worker thread of this process,
 * the servers on the main thread, everything on 127.0.0.1. CPU time per request of the servers'
 * thread, redis-server and mongo-server is recorded too: it is less disturbed by other load.
 *
 * Goals: (c)/(a) >= 0.8 and (c)/(b) >= 1.1 in throughput; p99 of (c) at 1,000 req/s <= 25 ms.
 * Results: a table on stdout and bench/results/ussd.json. Everything it made (servers, the worker,
 * the PostgreSQL database, its Redis keys) is removed at the end, on failure and on SIGINT/SIGTERM,
 * and the whole run is bounded by a watchdog. Exits non-zero when the benchmark itself fails (a
 * server does not start, a run does not finish); a missed goal is reported, not an error.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// node's own performance: preact's JSX types bring in the DOM's, which has no eventLoopUtilization.
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import express from 'express';
import Redis from 'ioredis';
import UssdMenu from 'ussd-menu-builder';
import { join } from 'node:path';
import { parseConfig, type Environment } from '../src/config/config';
import { generateSecrets } from '../src/config/generated-secrets';
import { modules } from '../src/modules';
import { createLogger } from '../src/platform/logger';
import { startSafeline, type RunningSafeline } from '../src/safeline';
import { createCallerProfiles } from '../src/ussd/caller-profiles';
import { createRedisSessionStore } from '../src/ussd/session-store';
import { warmLanguageCache } from '../src/ussd/warm-language-cache';
import { cleanup, cleanupOnSignals, onCleanup, postgresCpuMs, procStatCpuMs, processCpuMs, redisCpuMs, scanDelete, startMongoOnFreshPostgres, stats, withTimeout, writeResults, type LatencyStats } from './support';

type TargetName = 'a' | 'b' | 'c';
/** 'api': the USSD endpoint as the api process serves it (flow events wait in Bull); 'all': with the worker in the same thread. */
type SafelineRole = 'api' | 'all';

const HOST = '127.0.0.1';
const REDIS_URL = 'redis://127.0.0.1:6379';
const SERVICE_CODE = '*384*1212#';
const NETWORK_CODE = '61002'; // Orange Mali
const HOPS = ['', '1', '1*1', '1*1*2'] as const;
type Kind = 'CON' | 'END' | 'any';
/**
 * What each hop must answer, beyond "CON or END": (a) answers a constant; (b)'s topic ends the
 * session; safeline's topic is a menu (the text, paginated, then "other topics" / "callback").
 */
const EXPECTED_KINDS: Record<TargetName, readonly Kind[]> = {
  a: ['any', 'any', 'any', 'any'],
  b: ['CON', 'CON', 'CON', 'END'],
  c: ['CON', 'CON', 'CON', 'any'],
};

const THROUGHPUT = { connections: 50, warmupSeconds: 3, seconds: 10 };
const RATE = { connections: 50, requestsPerSecond: 1_000, seconds: 10 };
const GOALS = { cOverA: 0.8, cOverB: 1.1, cP99AtRateMs: 25, atRequestsPerSecond: 1_000 };

/** Hard limit of the whole run, cleanup included (the mongo-server build, when not cached, is not counted). */
const WATCHDOG_MS = 8 * 60_000;
/** A driver run that takes this much longer than its duration is a failure. */
const RUN_SLACK_MS = 30_000;
const SESSION_TTL_SECONDS = 180;

const TARGET_LABELS: Record<TargetName, string> = {
  a: '(a) bare express',
  b: '(b) ussd-menu-builder',
  c: '(c) safeline',
};

// ---------------------------------------------------------------------------------------------
// Messages between the main thread and the load-generating worker.

interface DriverRun {
  target: TargetName;
  phase: 'warmup' | 'throughput' | 'rate';
  url: string;
  path: string;
  connections: number;
  seconds: number;
  overallRate?: number;
  /**
   * With overallRate: 'bursts' is autocannon's own limiter (each connection sends its share of the
   * second back to back at the start of every second: 50 concurrent requests each second); 'even'
   * spreads the same rate over the second (each connection one request per 1/share s, connections
   * staggered), which is what "1,000 requests/s" means for a USSD gateway.
   */
  pacing?: 'bursts' | 'even';
  /** Per hop: CON, END or either. */
  expectKinds: readonly Kind[];
}

interface Problem {
  hop: number;
  text: string;
  status: number;
  body: string;
}

interface DriverResult {
  target: TargetName;
  phase: DriverRun['phase'];
  seconds: number;
  connections: number;
  overallRate: number | null;
  pacing: DriverRun['pacing'] | null;
  requests: number;
  requestsPerSecond: number;
  sessionsStarted: number;
  latency: LatencyStats;
  /** The same, per hop (text "", "1", "1*1", "1*1*2"). */
  latencyByHop: LatencyStats[];
  errors: number;
  timeouts: number;
  resets: number;
  non200: number;
  statusCodes: Record<string, number>;
  /** 200 replies whose body does not start with `CON ` or `END `. */
  nonConforming: number;
  /** Conforming replies of the wrong kind for their hop (END too early, CON at the topic). */
  wrongKind: number;
  /** 200 replies without a text/plain content type. */
  notTextPlain: number;
  problems: Problem[];
  /** Share of the time the load generator's thread was busy: near 1 means the numbers are the generator's limit. */
  generatorBusy: number;
  /** Share of the time the servers' thread (the main thread) was busy. */
  serverBusy?: number;
  /** 1-minute load average when the run ended (other processes on the machine skew the numbers). */
  loadAverage1m?: number;
  /**
   * CPU time per request (ms): of the servers' thread, of redis-server (all its clients) and, for
   * (c), of the mongo-server process. Less sensitive to other load on the machine than requests/s.
   */
  cpuMsPerRequest?: Record<string, number | null>;
}

type ToWorker = { kind: 'run'; run: DriverRun };
type FromWorker = { kind: 'done'; result: DriverResult } | { kind: 'failed'; message: string };

// ---------------------------------------------------------------------------------------------
// The load generator (worker thread).

/** The part of autocannon 8's API used here (it ships no types). */
interface AcRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AcRequest, context: HopContext) => AcRequest;
  onResponse?: (status: number, body: string, context: HopContext, headers: Record<string, string | string[]>) => void;
}
interface AcClient {
  requestIterator: { initialContext: HopContext; resetContext(): void; rebuildRequest(): unknown };
  /** Internals of autocannon 8's per-connection rate limiter, replaced for pacing 'even'. */
  rate?: number;
  rateInterval?: NodeJS.Timeout;
  reqsMadeThisSecond?: number;
  paused?: boolean;
  destroyed?: boolean;
  _doRequest?: () => void;
}
interface AcOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  overallRate?: number;
  ignoreCoordinatedOmission?: boolean;
  requests: AcRequest[];
  setupClient: (client: AcClient) => void;
}
interface AcRawResult {
  totalCompletedRequests: number;
  errors: number;
  timeouts: number;
  resets: number;
  non2xx: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AcInstance {
  on(event: 'response', listener: (client: AcClient, statusCode: number, resBytes: number, responseTime: number) => void): void;
  stop(): void;
}
type Autocannon = (opts: AcOptions, cb: (err: Error | null, result: AcRawResult) => void) => AcInstance;

/** Per connection: its number, and the session it is playing (reset by autocannon after the last hop). */
interface HopContext {
  conn?: number;
  sessionId?: string;
  phoneNumber?: string;
}

function driver(): void {
  const port = parentPort;
  if (!port) throw new Error('driver() runs in a worker thread');
  const { runTag, phoneBase } = workerData as { runTag: string; phoneBase: number };
  const autocannon = createRequire(__filename)('autocannon') as Autocannon;
  let phones = 0; // unique phone numbers over the whole run: a brand-new resident per session

  const execute = (run: DriverRun): Promise<DriverResult> =>
    new Promise((resolve, reject) => {
      const latencies: number[] = [];
      const latenciesByHop: number[][] = HOPS.map(() => []);
      // onResponse runs just before autocannon's 'response' event for the same reply.
      let lastHop = 0;
      const sessionsPerConnection: number[] = [];
      let nextConnection = 0;
      let sessionsStarted = 0;
      let nonConforming = 0;
      let wrongKind = 0;
      let notTextPlain = 0;
      const problems: Problem[] = [];
      const note = (problem: Problem): void => {
        if (problems.length < 12) problems.push({ ...problem, body: problem.body.slice(0, 160) });
      };

      const requests: AcRequest[] = HOPS.map((text, hop) => ({
        method: 'POST',
        path: run.path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (req, context) => {
          if (context.conn === undefined) return req; // built once before setupClient numbers the connection
          if (hop === 0) {
            const n = (sessionsPerConnection[context.conn] = (sessionsPerConnection[context.conn] ?? 0) + 1);
            // Unique over the run (the two rate runs share a phase): AT never reuses a session id, and
            // safeline refuses a hop whose phone is not its session's.
            context.sessionId = `ATUid_bench_${runTag}_${run.target}_${run.phase}${run.pacing ?? ''}_c${context.conn}_s${n}`;
            context.phoneNumber = `+2237${String((phoneBase + phones++) % 10_000_000).padStart(7, '0')}`;
            sessionsStarted++;
          }
          const body = new URLSearchParams({
            sessionId: context.sessionId ?? '',
            serviceCode: SERVICE_CODE,
            phoneNumber: context.phoneNumber ?? '',
            networkCode: NETWORK_CODE,
            text,
          }).toString();
          return { ...req, body };
        },
        onResponse: (status, body, _context, headers) => {
          lastHop = hop;
          if (status !== 200) {
            note({ hop, text, status, body });
            return;
          }
          if (!body.startsWith('CON ') && !body.startsWith('END ')) {
            nonConforming++;
            note({ hop, text, status, body });
            return;
          }
          const contentType = headers['content-type'] ?? headers['Content-Type'];
          if (!String(contentType ?? '').startsWith('text/plain')) notTextPlain++;
          const expected = run.expectKinds[hop] ?? 'any';
          if (expected !== 'any' && !body.startsWith(`${expected} `)) {
            wrongKind++;
            note({ hop, text, status, body });
          }
        },
      }));

      /** Replaces autocannon's once-a-second refill of the connection's quota by one request per slot. */
      const paceEvenly = (client: AcClient, conn: number): void => {
        // Called from setupClient, before the constructor creates its limiter and sends the first request.
        queueMicrotask(() => {
          const { rate, rateInterval } = client;
          if (!rate || !rateInterval || typeof client._doRequest !== 'function' || typeof client.reqsMadeThisSecond !== 'number') {
            throw new Error('autocannon internals changed: cannot pace requests evenly (see paceEvenly in bench/ussd.ts)');
          }
          clearInterval(rateInterval);
          const slotMs = 1000 / rate;
          client.rate = 1;
          client.reqsMadeThisSecond = 1; // the request the constructor sent
          const tick = (): void => {
            if (client.destroyed) return;
            client.reqsMadeThisSecond = 0;
            if (client.paused) {
              client.paused = false;
              client._doRequest?.();
            }
          };
          // destroy() clears client.rateInterval; the staggered start checks destroyed itself.
          setTimeout(() => {
            if (client.destroyed) return;
            client.rateInterval = setInterval(tick, slotMs);
            tick();
          }, (conn / run.connections) * slotMs);
        });
      };

      const started = Date.now();
      const busyAtStart = performance.eventLoopUtilization();
      const instance = autocannon(
        {
          url: run.url,
          connections: run.connections,
          duration: run.seconds,
          timeout: 10,
          ...(run.overallRate ? { overallRate: run.overallRate, ignoreCoordinatedOmission: true } : {}),
          requests,
          setupClient: (client) => {
            const conn = nextConnection++;
            const iterator = client.requestIterator;
            iterator.initialContext = { conn };
            iterator.resetContext();
            iterator.rebuildRequest(); // the first hop again, now with a session of this connection
            if (run.overallRate && run.pacing === 'even') paceEvenly(client, conn);
          },
        },
        (err, raw) => {
          if (err) return reject(err);
          const seconds = raw.duration || (Date.now() - started) / 1000;
          const statusCodes = Object.fromEntries(Object.entries(raw.statusCodeStats).map(([code, { count }]) => [code, count]));
          const non200 = Object.entries(statusCodes).reduce((sum, [code, count]) => sum + (code === '200' ? 0 : count), 0);
          resolve({
            target: run.target,
            phase: run.phase,
            seconds,
            connections: run.connections,
            overallRate: run.overallRate ?? null,
            pacing: run.overallRate ? (run.pacing ?? 'bursts') : null,
            requests: raw.totalCompletedRequests,
            requestsPerSecond: Math.round(raw.totalCompletedRequests / seconds),
            sessionsStarted,
            latency: stats(latencies),
            latencyByHop: latenciesByHop.map((samples) => stats(samples)),
            errors: raw.errors,
            timeouts: raw.timeouts,
            resets: raw.resets,
            non200,
            statusCodes,
            nonConforming,
            wrongKind,
            notTextPlain,
            problems,
            generatorBusy: Math.round(performance.eventLoopUtilization(busyAtStart).utilization * 100) / 100,
          });
        },
      );
      instance.on('response', (_client, _status, _bytes, responseTime) => {
        latencies.push(responseTime);
        latenciesByHop[lastHop]?.push(responseTime);
      });
    });

  port.on('message', (message: ToWorker) => {
    execute(message.run).then(
      (result) => port.postMessage({ kind: 'done', result } satisfies FromWorker),
      (err: unknown) => port.postMessage({ kind: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The menu: texts and (b), ussd-menu-builder with a Redis session store.

type Lang = 'fr' | 'bm' | 'en';
const LANGS: Record<string, Lang> = { '1': 'fr', '2': 'bm', '3': 'en' };
const CHOOSE_LANGUAGE = 'Safeline\n1. Français\n2. Bamanankan\n3. English';

/** Bench texts of about the real screens' length (the Bambara ones are placeholders, not reviewed translations). */
const TEXTS: Record<Lang, { main: string; learn: string; topics: string[]; soon: string; error: string }> = {
  fr: {
    main: 'Menu\n1. Apprendre\n2. Signaler\n3. Etre rappelé\n4. S\'abonner\n5. Langue',
    learn: 'Apprendre\n1. Fausses offres d\'emploi\n2. Votre passeport\n3. Ce que dit la loi\n4. Migrer en sécurité\n5. Obtenir de l\'aide',
    topics: [
      'Un emploi à l\'étranger qui demande de payer des frais est souvent un piège. Vérifiez l\'employeur. Appel gratuit: 116.',
      'Ne confiez jamais votre passeport. Personne n\'a le droit de le garder. Gardez une copie chez un proche. Appel gratuit: 116.',
      'La loi malienne 2012-023 punit la traite des personnes. Les victimes sont protégées, pas poursuivies. Appel gratuit: 116.',
      'Avant de partir: contrat écrit, adresse de l\'employeur, numéro de l\'ambassade, un proche informé. Appel gratuit: 116.',
      'Besoin d\'aide? Appelez le 116, gratuit, 24h/24, ou composez ce code et choisissez 3 pour être rappelé.',
    ],
    soon: 'Merci. Ce service arrive bientôt.',
    error: 'Désolé, une erreur est survenue. Réessayez.',
  },
  bm: {
    main: 'Menu\n1. Ka kalan\n2. Ka fo\n3. An ka i wele\n4. Ka i tɔgɔ sɛbɛn\n5. Kan',
    learn: 'Ka kalan\n1. Baara nkalon\n2. I ka paspɔri\n3. Sariya\n4. Taama lakanani\n5. Dɛmɛ',
    topics: [
      'Baara min b\'a fɛ i ka wari sara ka taa jamana wɛrɛ la, o ka c\'a la ye nanbara ye. Wele 116, a ye fu ye.',
      'I kana i ka paspɔri di mɔgɔ si ma. Mɔgɔ si t\'a sɔrɔ k\'a mara. A kopi to i somɔgɔ bolo. Wele 116, a ye fu ye.',
      'Mali sariya 2012-023 bɛ mɔgɔ feere ɲangi. Tɔɔrɔbaga bɛ lakana. Wele 116, a ye fu ye.',
      'Sani i ka taa: sɛbɛn, baarakɛyɔrɔ sigiyɔrɔ, ambasadi nimɔrɔ, i somɔgɔ ka kan k\'a dɔn. Wele 116, a ye fu ye.',
      'I mago bɛ dɛmɛ na wa? Wele 116, a ye fu ye, waati bɛɛ, walima 3 sugandi an k\'i wele.',
    ],
    soon: 'I ni ce. Nin bɛna sɔrɔ sɔɔni.',
    error: 'Hakɛto, fili dɔ donna. A lajɛ tugun.',
  },
  en: {
    main: 'Menu\n1. Learn\n2. Report\n3. Callback\n4. Subscribe\n5. Language',
    learn: 'Learn\n1. Fake job offers\n2. Your passport\n3. What the law says\n4. Migrate safely\n5. Get help',
    topics: [
      'A job abroad that asks you to pay fees is often a trap. Check the employer first. Free call: 116.',
      'Never hand over your passport. Nobody may keep it. Leave a copy with someone you trust. Free call: 116.',
      'Mali\'s law 2012-023 punishes trafficking in persons. Victims are protected, not prosecuted. Free call: 116.',
      'Before you leave: a written contract, the employer\'s address, the embassy\'s number, a relative informed. Free call: 116.',
      'Need help? Call 116, free, day and night, or dial this code and choose 3 to be called back.',
    ],
    soon: 'Thank you. This service is coming soon.',
    error: 'Sorry, something went wrong. Please try again.',
  },
};

/** The promise flavour of ussd-menu-builder's session object (its types say `any`). */
interface MenuSession {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
}

function langOf(value: unknown): Lang {
  return value === 'fr' || value === 'bm' || value === 'en' ? value : 'fr';
}

/** A fresh menu for one request: ussd-menu-builder keeps per-request state on the instance. */
function buildMenu(redis: Redis, keyPrefix: string): UssdMenu {
  const menu = new UssdMenu();
  const key = (sessionId: string): string => `${keyPrefix}${sessionId}`;
  // ussd-menu-builder leaves the promises of start() and end() unhandled: they must not reject.
  menu.sessionConfig({
    start: (sessionId: string) => redis.expire(key(sessionId), SESSION_TTL_SECONDS).catch(() => 0),
    end: (sessionId: string) => redis.del(key(sessionId)).catch(() => 0),
    get: (sessionId: string, field: string) => redis.hget(key(sessionId), field),
    set: (sessionId: string, field: string, value: unknown) =>
      redis.multi().hset(key(sessionId), field, String(value)).expire(key(sessionId), SESSION_TTL_SECONDS).exec(),
  });
  const session = menu.session as MenuSession;
  const withLang = (show: (lang: Lang) => void): void => {
    session.get('lang').then(
      (lang) => show(langOf(lang)),
      () => menu.end(TEXTS.en.error),
    );
  };

  menu.startState({
    run: () => menu.con(CHOOSE_LANGUAGE),
    next: { '*^[123]$': 'main' },
  });
  menu.state('main', {
    run: () => {
      const lang = LANGS[menu.val] ?? 'fr';
      session.set('lang', lang).then(
        () => menu.con(TEXTS[lang].main),
        () => menu.end(TEXTS[lang].error),
      );
    },
    next: { '1': 'learn', '2': 'soon', '3': 'soon', '4': 'soon', '5': '__start__' },
  });
  menu.state('learn', {
    run: () => withLang((lang) => menu.con(TEXTS[lang].learn)),
    next: { '*^[1-5]$': 'topic' },
  });
  menu.state('topic', {
    run: () => withLang((lang) => menu.end(TEXTS[lang].topics[Number(menu.val) - 1] ?? TEXTS[lang].error)),
  });
  menu.state('soon', {
    run: () => withLang((lang) => menu.end(TEXTS[lang].soon)),
  });
  return menu;
}

interface GatewayForm {
  sessionId: string;
  serviceCode: string;
  phoneNumber: string;
  networkCode: string;
  text: string;
}

function gatewayForm(body: unknown): GatewayForm | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const field = (name: string): string | undefined => (typeof b[name] === 'string' ? b[name] : undefined);
  const sessionId = field('sessionId');
  const phoneNumber = field('phoneNumber');
  if (!sessionId || !phoneNumber) return undefined;
  return { sessionId, phoneNumber, serviceCode: field('serviceCode') ?? '', networkCode: field('networkCode') ?? '', text: field('text') ?? '' };
}

// ---------------------------------------------------------------------------------------------
// The servers.

interface RunningTarget {
  name: TargetName;
  url: string;
  /** Path with query of the USSD callback. */
  path: string;
  stop(): Promise<void>;
}

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  return { server, url: `http://${HOST}:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

async function startBare(): Promise<RunningTarget> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/ussd', (_req, res) => {
    res.type('text/plain').send(`CON ${CHOOSE_LANGUAGE}`);
  });
  const { server, url } = await listen(app);
  return { name: 'a', url, path: '/ussd', stop: () => closeServer(server) };
}

async function startMenuBuilder(redis: Redis, keyPrefix: string): Promise<RunningTarget> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/ussd', (req, res) => {
    const form = gatewayForm(req.body);
    const reply = (text: string): void => {
      if (!res.headersSent) res.type('text/plain').send(text);
    };
    if (!form) return reply(`END ${TEXTS.en.error}`);
    const menu = buildMenu(redis, keyPrefix);
    menu.on('error', () => reply(`END ${TEXTS.en.error}`));
    menu.run(form).then(reply, () => reply(`END ${TEXTS.en.error}`));
  });
  const { server, url } = await listen(app);
  return { name: 'b', url, path: '/ussd', stop: () => closeServer(server) };
}

/**
 * safeline's configuration for the bench: its own database and queue prefix (every Redis key it
 * makes starts with it), the repository's flows and texts, secrets generated for the run.
 */
function safelineEnvironment(mongodbUri: string, queuePrefix: string, role: SafelineRole): Environment {
  const root = join(__dirname, '..');
  return {
    ...generateSecrets(),
    SAFELINE_ROLE: role,
    MONGODB_URI: mongodbUri,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    HOST,
    PORT: '0',
    // As deployed: the gateway's addresses allow-listed, so only per-phone limits count.
    CALLBACK_ALLOWED_IPS: '127.0.0.1,::1',
    LOG_LEVEL: 'silent',
    SMS_GATEWAY: 'emulator',
    FLOWS_DIR: join(root, 'flows'),
    TEMPLATES_DIR: join(root, 'templates'),
  };
}

async function startSafelineTarget(queuePrefix: string, role: SafelineRole): Promise<RunningTarget & { app: RunningSafeline; mongoPid: number; database: string }> {
  const { server, database } = await startMongoOnFreshPostgres('ussd');
  const config = parseConfig(safelineEnvironment(`${server.uri}bench_ussd`, queuePrefix, role));
  const logger = createLogger({ level: 'silent' });
  const app = await startSafeline(config, logger, modules);
  onCleanup(() => withTimeout(app.stop(), 20_000, 'stopping safeline'));
  await withTimeout(app.infra.mongo.opened, 30_000, 'safeline connecting to MongoDB');
  // In production the worker fills the language cache at start; the api role alone here does it once.
  const sessions = createRedisSessionStore(app.infra.redis.client, { prefix: config.queuePrefix, ttlSeconds: config.ussd.sessionTtlSeconds, resumeSeconds: config.ussd.resumeWindowSeconds });
  await warmLanguageCache(createCallerProfiles(app.infra.mongo.connection), sessions, logger);
  return { name: 'c', url: app.url, path: `/ussd?token=${encodeURIComponent(config.ussd.callbackToken)}`, stop: () => app.stop(), app, mongoPid: server.pid, database };
}

/** One session by hand before the load: what each hop answers (also tells whether POST /ussd exists). */
async function probeSession(target: RunningTarget, runTag: string): Promise<Array<{ text: string; status: number; body: string }>> {
  const out: Array<{ text: string; status: number; body: string }> = [];
  for (const text of HOPS) {
    const res = await fetch(`${target.url}${target.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sessionId: `ATUid_bench_${runTag}_${target.name}_probe`, serviceCode: SERVICE_CODE, phoneNumber: '+22379999999', networkCode: NETWORK_CODE, text }),
      signal: AbortSignal.timeout(10_000),
    });
    out.push({ text, status: res.status, body: await res.text() });
    if (res.status === 404) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Orchestration (main thread).

/** CPU time of this process's main thread (the servers) alone, not the load generator's. */
const serverThreadCpuMs = (): number | undefined => procStatCpuMs(`/proc/self/task/${process.pid}/stat`);

function createCpuMeters(redis: Redis) {
  const meters = new Map<string, () => number | undefined | Promise<number | undefined>>([
    ['serverThread', serverThreadCpuMs],
    ['redis', () => redisCpuMs(redis)],
  ]);
  return {
    add(name: string, read: () => number | undefined): void {
      meters.set(name, read);
    },
    async read(): Promise<Record<string, number | undefined>> {
      const out: Record<string, number | undefined> = {};
      for (const [name, read] of meters) out[name] = await read();
      return out;
    },
  };
}

/** `--only a,b` (default a,b,c), `--role api|all` (default api) for safeline, `--rate N` (default 1000; the latency goal is judged at 1000 only). */
function parseOptions(argv: string[]): { only: TargetName[]; role: SafelineRole; rate: number } {
  const option = (name: string, fallback: string): string => {
    const inline = argv.find((arg) => arg.startsWith(`--${name}=`));
    const i = argv.indexOf(`--${name}`);
    return inline ? inline.slice(name.length + 3) : i >= 0 ? (argv[i + 1] ?? '') : fallback;
  };
  const unknown = argv.filter((arg, i) => arg.startsWith('--') && !/^--(only|role|rate)(=|$)/.test(arg) && !/^--(only|role|rate)$/.test(argv[i - 1] ?? ''));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(' ')} (known: --only a,b,c  --role api|all  --rate N)`);
  const value = option('only', 'a,b,c');
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((name) => !(name in TARGET_LABELS));
  if (names.length === 0 || bad.length > 0) throw new Error(`--only takes a comma-separated subset of a,b,c (got "${value}")`);
  const role = option('role', 'api');
  if (role !== 'api' && role !== 'all') throw new Error(`--role takes api or all (got "${role}")`);
  const rate = Number(option('rate', String(RATE.requestsPerSecond)));
  if (!Number.isInteger(rate) || rate < RATE.connections || rate > 100_000) throw new Error(`--rate takes requests per second, ${RATE.connections} to 100000`);
  return { only: (['a', 'b', 'c'] as const).filter((name) => names.includes(name)), role, rate };
}

interface TargetResults {
  label: string;
  available: boolean;
  note?: string;
  probe?: Array<{ text: string; status: number; body: string }>;
  warmup?: DriverResult;
  throughput?: DriverResult;
  /** At RATE.requestsPerSecond spread evenly over each second: the goal's measurement. */
  rate?: DriverResult;
  /** The same rate with autocannon's own limiter (a burst of 50 concurrent requests every second), for comparison. */
  rateBursts?: DriverResult;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { only } = options;
  const runTag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const menuKeyPrefix = `safeline-bench:ussd:${runTag}:`;

  const watchdog = setTimeout(() => {
    console.error(`bench:ussd: still running after ${WATCHDOG_MS / 60_000} min, giving up`);
    void cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  onCleanup(() => clearTimeout(watchdog));

  const worker = new Worker(__filename, { workerData: { runTag, phoneBase: Math.floor(Math.random() * 10_000_000) } });
  // Stop the load before anything else, then the servers (registered as they start), then the rest.
  onCleanup(
    async () => {
      await worker.terminate();
    },
    { first: true },
  );
  let pending: { resolve: (result: DriverResult) => void; reject: (err: Error) => void } | undefined;
  worker.on('message', (message: FromWorker) => {
    const waiting = pending;
    pending = undefined;
    if (message.kind === 'done') waiting?.resolve(message.result);
    else waiting?.reject(new Error(`load generator: ${message.message}`));
  });
  worker.on('error', (err) => pending?.reject(err));
  const drive = async (run: DriverRun): Promise<DriverResult> => {
    const cpuAtStart = await cpuMeters.read();
    const busyAtStart = performance.eventLoopUtilization();
    const result = await withTimeout(
      new Promise<DriverResult>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage({ kind: 'run', run } satisfies ToWorker);
      }),
      run.seconds * 1000 + RUN_SLACK_MS,
      `${TARGET_LABELS[run.target]} ${run.phase}`,
    );
    result.serverBusy = Math.round(performance.eventLoopUtilization(busyAtStart).utilization * 100) / 100;
    result.loadAverage1m = Math.round((loadavg()[0] ?? NaN) * 100) / 100;
    const cpuAtEnd = await cpuMeters.read();
    result.cpuMsPerRequest = Object.fromEntries(
      Object.entries(cpuAtEnd).map(([name, end]) => {
        const start = cpuAtStart[name];
        return [name, end === undefined || start === undefined || result.requests === 0 ? null : Math.round(((end - start) / result.requests) * 1000) / 1000];
      }),
    );
    return result;
  };

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2, connectionName: 'safeline-bench-ussd' });
  let redisErrorShown = false;
  redis.on('error', (err: Error) => {
    if (!redisErrorShown) console.error(`redis: ${err.message}`);
    redisErrorShown = true;
  });
  onCleanup(async () => {
    await redis.quit();
  });
  const cpuMeters = createCpuMeters(redis);
  onCleanup(async () => {
    const n = await scanDelete(redis, `${menuKeyPrefix}*`);
    if (n > 0) console.log(`deleted ${n} Redis keys ${menuKeyPrefix}*`);
  });

  const results: Partial<Record<TargetName, TargetResults>> = {};
  for (const name of only) {
    const entry: TargetResults = { label: name === 'c' ? `${TARGET_LABELS[name]} ${options.role}` : TARGET_LABELS[name], available: true };
    results[name] = entry;
    let target: RunningTarget;
    if (name === 'a') target = await startBare();
    else if (name === 'b') target = await startMenuBuilder(redis, menuKeyPrefix);
    else {
      // safeline prefixes every Redis key it makes (sessions, resume offers, Bull) with QUEUE_PREFIX.
      const queuePrefix = `bench_ussd_${runTag}`;
      onCleanup(async () => {
        const n = await scanDelete(redis, `${queuePrefix}:*`);
        if (n > 0) console.log(`deleted ${n} Redis keys ${queuePrefix}:*`);
      });
      target = await startSafelineTarget(queuePrefix, options.role);
      const { mongoPid, database } = target as Awaited<ReturnType<typeof startSafelineTarget>>;
      cpuMeters.add('mongoServer', () => processCpuMs(mongoPid));
      cpuMeters.add('postgres', () => postgresCpuMs(database));
    }
    const stopTarget = (): Promise<void> => withTimeout(target.stop(), 20_000, `stopping ${TARGET_LABELS[name]}`);
    onCleanup(stopTarget);
    console.log(`${TARGET_LABELS[name]}: ${target.url}${target.path.replace(/token=[^&]+/, 'token=***')}`);
    try {
      entry.probe = await probeSession(target, runTag);
      const first = entry.probe[0];
      if (first && first.status === 404) {
        entry.available = false;
        entry.note = `POST ${target.path.split('?')[0]} answered 404: the endpoint is not there (yet)`;
        console.log(`${TARGET_LABELS[name]}: ${entry.note}; skipped`);
        continue;
      }
      const base = { target: name, url: target.url, path: target.path, expectKinds: EXPECTED_KINDS[name] };
      process.stdout.write(`${TARGET_LABELS[name]}: warm-up ${THROUGHPUT.warmupSeconds} s, `);
      entry.warmup = await drive({ ...base, phase: 'warmup', connections: THROUGHPUT.connections, seconds: THROUGHPUT.warmupSeconds });
      process.stdout.write(`throughput ${THROUGHPUT.seconds} s, `);
      entry.throughput = await drive({ ...base, phase: 'throughput', connections: THROUGHPUT.connections, seconds: THROUGHPUT.seconds });
      process.stdout.write(`${options.rate} req/s for ${RATE.seconds} s evenly, `);
      entry.rate = await drive({ ...base, phase: 'rate', connections: RATE.connections, seconds: RATE.seconds, overallRate: options.rate, pacing: 'even' });
      process.stdout.write(`then in bursts... `);
      entry.rateBursts = await drive({ ...base, phase: 'rate', connections: RATE.connections, seconds: RATE.seconds, overallRate: options.rate, pacing: 'bursts' });
      console.log('done');
    } finally {
      await stopTarget();
    }
  }

  report(results, runTag, options.role, options.rate);
}

function report(results: Partial<Record<TargetName, TargetResults>>, runTag: string, safelineRole: SafelineRole, rate: number): void {
  const measured = (name: TargetName): TargetResults | undefined => (results[name]?.throughput ? results[name] : undefined);
  const ratio = (x: TargetName, y: TargetName): number | null => {
    const a = measured(x)?.throughput?.requestsPerSecond;
    const b = measured(y)?.throughput?.requestsPerSecond;
    return a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : null;
  };
  const cOverA = ratio('c', 'a');
  const cOverB = ratio('c', 'b');
  /** The same ratio in requests per CPU-second of the servers' thread. */
  const cpuRatio = (x: TargetName, y: TargetName): number | null => {
    const cx = measured(x)?.throughput?.cpuMsPerRequest?.serverThread;
    const cy = measured(y)?.throughput?.cpuMsPerRequest?.serverThread;
    return cx && cy ? Math.round((cy / cx) * 1000) / 1000 : null;
  };
  const cpuCOverA = cpuRatio('c', 'a');
  const cpuCOverB = cpuRatio('c', 'b');
  // The latency goal is defined at 1,000 req/s only.
  const cP99 = rate === GOALS.atRequestsPerSecond ? (measured('c')?.rate?.latency.p99Ms ?? null) : null;
  const verdict = (ok: boolean | null): 'PASS' | 'FAIL' | 'n/a' => (ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL');
  const goals = {
    cOverA: { goal: `>= ${GOALS.cOverA}`, value: cOverA, verdict: verdict(cOverA === null ? null : cOverA >= GOALS.cOverA) },
    cOverB: { goal: `>= ${GOALS.cOverB}`, value: cOverB, verdict: verdict(cOverB === null ? null : cOverB >= GOALS.cOverB) },
    cP99AtRate: { goal: `<= ${GOALS.cP99AtRateMs} ms`, value: cP99, verdict: verdict(cP99 === null ? null : cP99 <= GOALS.cP99AtRateMs) },
  };

  const names = (['a', 'b', 'c'] as const).filter((name) => results[name]);
  const width = 24;
  const cell = (s: string): string => s.padStart(width);
  const row = (label: string, value: (r: TargetResults) => string): string =>
    `${label.padEnd(34)}${names.map((name) => cell(results[name] ? value(results[name]) : '')).join('')}`;
  const f2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2));
  const byHop = (r: DriverResult | undefined, key: 'p50Ms' | 'p99Ms'): string =>
    r ? r.latencyByHop.map((s) => (Number.isNaN(s[key]) ? '-' : s[key] < 10 ? s[key].toFixed(1) : s[key].toFixed(0))).join('/') : '-';
  const problems = (r: DriverResult | undefined): string =>
    r ? `${r.errors} / ${r.non200} / ${r.nonConforming} / ${r.wrongKind}` : '-';

  console.log('');
  console.log(`ussd benchmark: ${THROUGHPUT.connections} connections, sessions of ${HOPS.length} hops (${HOPS.map((t) => JSON.stringify(t)).join(' -> ')}), node ${process.version}`);
  console.log(row('', (r) => r.label));
  console.log('-'.repeat(34 + width * names.length));
  console.log(row('throughput: requests/s', (r) => (r.throughput ? String(r.throughput.requestsPerSecond) : r.available ? '-' : 'not available')));
  console.log(row('  sessions completed/s', (r) => (r.throughput ? String(Math.round(r.throughput.requestsPerSecond / HOPS.length)) : '-')));
  console.log(row('  latency p50 ms', (r) => f2(r.throughput?.latency.p50Ms)));
  console.log(row('  latency p99 ms', (r) => f2(r.throughput?.latency.p99Ms)));
  console.log(row('  p50 ms by hop', (r) => byHop(r.throughput, 'p50Ms')));
  console.log(row('  errors/non-200/bad body/kind', (r) => problems(r.throughput)));
  console.log(row('  generator/server thread busy', (r) => (r.throughput ? `${f2(r.throughput.generatorBusy)} / ${f2(r.throughput.serverBusy)}` : '-')));
  console.log(row('  CPU ms/request: server thread', (r) => f2(r.throughput?.cpuMsPerRequest?.serverThread ?? undefined)));
  console.log(row('  CPU ms/request: redis-server', (r) => f2(r.throughput?.cpuMsPerRequest?.redis ?? undefined)));
  console.log(row('  CPU ms/request: mongo-server', (r) => f2(r.throughput?.cpuMsPerRequest?.mongoServer ?? undefined)));
  console.log(row('  CPU ms/request: postgres', (r) => f2(r.throughput?.cpuMsPerRequest?.postgres ?? undefined)));
  for (const [label, pick] of [
    [`at ${rate} req/s, even: achieved`, (r: TargetResults) => r.rate],
    [`at ${rate} req/s, bursts: achieved`, (r: TargetResults) => r.rateBursts],
  ] as const) {
    console.log(row(label, (r) => (pick(r) ? `${pick(r)?.requestsPerSecond} req/s` : '-')));
    console.log(row('  latency p50 ms', (r) => f2(pick(r)?.latency.p50Ms)));
    console.log(row('  latency p99 ms', (r) => f2(pick(r)?.latency.p99Ms)));
    console.log(row('  latency max ms', (r) => f2(pick(r)?.latency.maxMs)));
    console.log(row('  p50 ms by hop', (r) => byHop(pick(r), 'p50Ms')));
    console.log(row('  p99 ms by hop', (r) => byHop(pick(r), 'p99Ms')));
    console.log(row('  errors/non-200/bad body/kind', (r) => problems(pick(r))));
  }
  console.log('');
  console.log(`(c)/(a) throughput ratio: ${cOverA ?? 'n/a'}    (c)/(b) throughput ratio: ${cOverB ?? 'n/a'}`);
  console.log(`the same in requests per CPU-second of the server thread: (c)/(a) ${cpuCOverA ?? 'n/a'}    (c)/(b) ${cpuCOverB ?? 'n/a'}`);
  console.log(`goal: (c)/(a) >= ${GOALS.cOverA} -> ${goals.cOverA.verdict}`);
  console.log(`goal: (c)/(b) >= ${GOALS.cOverB} -> ${goals.cOverB.verdict}`);
  console.log(`goal: p99 of (c) at ${GOALS.atRequestsPerSecond} req/s (even) <= ${GOALS.cP99AtRateMs} ms -> ${goals.cP99AtRate.verdict}`);
  console.log(`load average (1 min) at the end: ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} CPUs (other processes skew the numbers)`);

  for (const name of names) {
    const r = results[name];
    const all = [r?.warmup, r?.throughput, r?.rate, r?.rateBursts].flatMap((d) => d?.problems ?? []);
    if (r?.note) console.log(`${r.label}: ${r.note}`);
    if (all.length > 0) {
      console.log(`${r?.label}: first problem replies:`);
      for (const p of all.slice(0, 5)) console.log(`  hop ${p.hop} text ${JSON.stringify(p.text)}: ${p.status} ${JSON.stringify(p.body)}`);
    }
  }

  const file = writeResults('ussd', {
    benchmark: 'ussd',
    at: new Date().toISOString(),
    runTag,
    safelineRole,
    node: process.version,
    cpus: availableParallelism(),
    host: HOST,
    workload: { hops: HOPS, expectedKinds: EXPECTED_KINDS, serviceCode: SERVICE_CODE, networkCode: NETWORK_CODE },
    throughputSettings: THROUGHPUT,
    rateSettings: { ...RATE, requestsPerSecond: rate },
    targets: results,
    ratios: { cOverA, cOverB, perServerThreadCpu: { cOverA: cpuCOverA, cOverB: cpuCOverB } },
    goals,
  });
  console.log(`results: ${file}`);
}

if (isMainThread) {
  cleanupOnSignals('stopping the servers, dropping the database and deleting the Redis keys');
  main()
    .catch((err: unknown) => {
      console.error(`\nbench:ussd failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    })
    .finally(() => cleanup())
    .catch(() => undefined);
} else {
  driver();
}
