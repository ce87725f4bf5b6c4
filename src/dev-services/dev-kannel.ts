import { join } from 'node:path';
import type { Environment } from '../config/config';
import { readRoutesFile, routesUse } from '../config/sms-routes';
import { createEmulatorOutbox } from '../gateway/emulator-gateway';
import { emulatorPages } from '../gateway/emulator-pages';
import { withPlus } from '../gateway/kannel-inbound';
import type { SafelineModule } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { freePort } from './free-port';
import { kannelInboundUrl, kannelSettings, requireKannel, startKannel, type KannelSettings, type RunningKannel } from './kannel';
import { startSmscSimulator, type ReceivedSms, type SmscSimulator } from './smpp-simulator';

/*
 * `SMS_GATEWAY=kannel npm run dev` with no Kannel configured (neither KANNEL_SENDSMS_URL nor KANNEL_ADMIN_URL):
 * the whole chain on this machine. One SMSC simulator per smsc-id safeline sends over (the kannel routes of
 * SMS_ROUTES_FILE, else KANNEL_SMSC, else "operator"), Debian's bearerbox and smsbox bound to them from a
 * kannel.conf under DATA_DIR/kannel (written as the tests write theirs: no number or text in Kannel's logs), and
 * safeline's KANNEL_* settings pointing at them. What the simulated operators receive goes into the emulator's
 * store: the console's SMS emulator page lists it. Plain code chosen by dev.ts: nothing here runs in production.
 */

/** Kannel's own default ports, taken when free (else any free port). */
const KANNEL_PORTS = { admin: 13000, smsbox: 13001, sendsms: 13013 };
/** The smsc-id of the one simulated operator when neither a routes file nor KANNEL_SMSC names one. */
const DEFAULT_SMSC = 'operator';
/** A receipt comes this long after the message: long enough to see "sent" before "delivered" in the console. */
const RECEIPT_DELAY_MS = 1_000;

export interface DevKannelChain {
  readonly simulators: readonly SmscSimulator[];
  readonly kannel: RunningKannel;
  /** The console's SMS emulator page for what the simulated operators received, and what keeps it (worker part). */
  readonly module: SafelineModule;
  /** What to tell a newcomer, one log line each (no password). */
  readonly howTo: readonly string[];
  stop(): Promise<void>;
}

export interface DevKannelPlan {
  readonly smscs: readonly string[];
  /** Settings for safeline's configuration: KANNEL_* and PORT (a free one when it was 0: Kannel's get-url needs it). */
  readonly env: Readonly<Record<string, string>>;
  start(): Promise<DevKannelChain>;
}

/** The smsc-ids safeline sends over: the kannel routes of SMS_ROUTES_FILE, or the one route's. */
function smscsOf(env: Environment): string[] {
  if (!env.SMS_ROUTES_FILE) return [env.KANNEL_SMSC || DEFAULT_SMSC];
  // A file with problems is reported by parseConfig; only its kannel routes' binds matter here.
  const { routes } = readRoutesFile(env.SMS_ROUTES_FILE);
  return [...new Set(routes.flatMap((route) => (route.gateway === 'kannel' && route.smsc ? [route.smsc] : [])))];
}

/** Whether npm run dev starts the chain: SMS_GATEWAY=kannel, no Kannel URL given, and some route sends over Kannel. */
export const wantsDevKannel = (env: Environment): boolean =>
  env.SMS_GATEWAY === 'kannel' && !env.KANNEL_SENDSMS_URL && !env.KANNEL_ADMIN_URL && smscsOf(env).length > 0;

/** Chooses ports and passwords, nothing started yet; throws at once when Kannel is not installed. */
export async function planDevKannel(env: Environment, dataDir: string): Promise<DevKannelPlan> {
  requireKannel();
  const smscs = smscsOf(env);
  const port = env.PORT === '0' ? String(await freePort()) : env.PORT || '3000';
  const host = !env.HOST || env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST;
  const settings = await kannelSettings(KANNEL_PORTS);
  const kannelEnv = {
    KANNEL_SENDSMS_URL: `http://127.0.0.1:${settings.ports.sendsms}/cgi-bin/sendsms`,
    KANNEL_USERNAME: settings.username,
    KANNEL_PASSWORD: settings.password,
    KANNEL_ADMIN_URL: `http://127.0.0.1:${settings.ports.admin}`,
    KANNEL_ADMIN_PASSWORD: settings.adminPassword,
    ...(env.SMS_ROUTES_FILE ? {} : { KANNEL_SMSC: smscs[0] ?? DEFAULT_SMSC }),
    PORT: port,
  };
  const moUrl = kannelInboundUrl(`http://${host}:${port}`, env.SMS_CALLBACK_TOKEN ?? '');
  return { smscs, env: kannelEnv, start: () => startChain(smscs, { ...settings, dir: join(dataDir, 'kannel') }, moUrl) };
}

async function startChain(smscs: readonly string[], settings: KannelSettings, moUrl: string): Promise<DevKannelChain> {
  let keep: ((sms: ReceivedSms) => void) | undefined;
  const simulators: SmscSimulator[] = [];
  let kannel: RunningKannel;
  try {
    for (const name of smscs) {
      simulators.push(await startSmscSimulator({ name, receiptDelayMs: RECEIPT_DELAY_MS, onReceived: (sms) => keep?.(sms) }));
    }
    kannel = await startKannel({ smscs: simulators, moUrl, dir: settings.dir, settings });
  } catch (err) {
    await Promise.all(simulators.map((simulator) => simulator.close()));
    throw err;
  }
  const module: SafelineModule = {
    name: 'simulated-operators',
    // With an emulator route as well, the gateway room already serves the page (over the same store).
    routers: (infra) => (routesUse(infra.config.routes, 'emulator') ? [] : [emulatorPages(infra, 'operators')]),
    startWorkers(infra) {
      const store = createEmulatorOutbox(infra.mongo.connection, createPhoneProtection(infra.config.secrets));
      keep = (sms) => {
        const message = { id: `${sms.smsc}-${sms.messageIds[0] ?? sms.at}`, to: withPlus(sms.to), from: sms.from, text: sms.text };
        store.keep([{ ...message, parts: sms.parts, via: sms.smsc, at: new Date(sms.at) }]).catch((err: unknown) => {
          infra.logger.warn(`simulated operator ${sms.smsc}: a message it received was not kept for the console (${(err as Error).name})`);
        });
      };
    },
  };
  const { ports } = settings;
  const howTo = [
    `dev kannel: bearerbox + smsbox from ${join(settings.dir, 'kannel.conf')} (logs beside it, without numbers or texts); ` +
      `sendsms on 127.0.0.1:${ports.sendsms}, admin on 127.0.0.1:${ports.admin}`,
    `simulated operators (SMPP SMSCs in this process, a receipt ${RECEIPT_DELAY_MS} ms after each message): ` +
      `${simulators.map((simulator) => `${simulator.name} on 127.0.0.1:${simulator.port}`).join(', ')}; ` +
      'what they receive: /console/sms-emulator (admins)',
    `binds: curl 'http://127.0.0.1:${ports.admin}/status.txt?password=<status-password in ${join(settings.dir, 'kannel.conf')}>' ` +
      '(or /readyz with METRICS_TOKEN)',
  ];
  return {
    simulators,
    kannel,
    module,
    howTo,
    async stop() {
      keep = undefined;
      await kannel.stop();
      await Promise.all(simulators.map((simulator) => simulator.close()));
    },
  };
}
