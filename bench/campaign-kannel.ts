/**
 * bench:campaign --gateway kannel's answer: the campaign through Kannel beside the same campaign through the AT
 * fake, and which was the limit:
 * - Kannel's `throughput`, when the SMSC received submit_sm at (nearly) that rate;
 * - Kannel's sendsms, when safeline sent (nearly) as fast as sendsms answered the bench's own calls at as many in
 *   flight (the probe of bench/campaign-gateways.ts);
 * - the machine's CPU, when it was (nearly) all busy while the sends went (other work on it included);
 * - safeline's fan-out, when the sends kept pace with it (done within moments of the last recipient queued).
 * The busiest process and how full the machine's cores were are printed beside.
 */
import { cpus } from 'node:os';
import { round, type CampaignFigures } from './campaign-run';

/** A rate within this share of a bound counts as held at it. */
const AT_THE_BOUND = 0.9;

interface SendsmsAlone {
  readonly answeredPerSecond: number;
  readonly inFlight: number;
}

const sum = (values: Record<string, number>, names: readonly string[]): number =>
  round(names.reduce((total, name) => total + (values[name] ?? 0), 0));

const headline = (figures: CampaignFigures) => ({
  sentPerSecond: figures.handedToGatewayPerSecond,
  deliveredPerSecond: figures.deliveredPerSecond,
  wallSeconds: figures.wallSeconds,
  safelineCpuUsPerRecipient: figures.safelineCpuUsPerRecipient,
  safelineCpuUsPerRecipientOverIdle: figures.safelineCpuUsPerRecipientOverIdle,
  safelineCoresBusy: sum(figures.coresBusy, ['api', 'worker']),
  allDelivered: (figures.final?.delivered ?? 0) === figures.recipients,
  duplicates: figures.duplicatesAtGateway,
  reportsRefused: figures.reportsRefused,
  machineBusyWhileSending: figures.machineBusy.whileSending,
  loadAverage: figures.loadAverage,
});

function limitOf(kannel: CampaignFigures, throughput: number, smscRate: number, alone: SendsmsAlone | undefined): string {
  if (throughput > 0 && smscRate >= AT_THE_BOUND * throughput) {
    return `Kannel's throughput setting: ${throughput}/s configured, the SMSC received ${smscRate} submit_sm/s`;
  }
  const sent = kannel.handedToGatewayPerSecond;
  if (alone && sent >= AT_THE_BOUND * alone.answeredPerSecond) {
    return `Kannel's sendsms: ${sent}/s sent, sendsms alone answers ${alone.answeredPerSecond}/s at the same ${alone.inFlight} in flight`;
  }
  const machine = kannel.machineBusy.whileSending;
  if (machine >= AT_THE_BOUND) {
    const busy = kannel.coresBusyWhileSending;
    const part = (names: readonly string[]): number => sum(busy, names);
    return `the machine's CPU: ${cpus().length} cores ${round(machine * 100, 0)} % busy while sending, of which safeline ` +
      `${part(['api', 'worker'])}, Kannel ${part(['bearerbox', 'smsbox'])}, the store ${part(['mongoServer', 'postgres'])}, ` +
      `Redis and this bench ${part(['redis', 'bench'])} cores, the rest other work`;
  }
  const kannelSide = throughput > 0 ? `Kannel's ${throughput}/s not reached (${smscRate}/s)` : 'Kannel unbounded';
  const lag = kannel.sendsDoneSeconds - kannel.fanOutSeconds;
  if (lag <= (1 - AT_THE_BOUND) * kannel.sendsDoneSeconds) {
    const queued = round(kannel.recipients / kannel.fanOutSeconds, 0);
    return `safeline's fan-out: recipients queued at ${queued}/s, the sends kept pace (done ${round(lag, 1)} s after the last); ` +
      kannelSide;
  }
  return `none of Kannel's setting, its sendsms, the machine or safeline's fan-out: ${kannelSide}`;
}

export function kannelComparison(kannel: CampaignFigures, at: CampaignFigures | undefined, throughput: number) {
  const side = kannel.gatewaySide as { submitsPerSecondAtSmsc?: number | null; sendsmsAlone?: SendsmsAlone };
  const smscRate = side.submitsPerSecondAtSmsc ?? 0;
  const [busiest, busiestCores] = Object.entries(kannel.coresBusyWhileSending).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  const allCores = round(Object.values(kannel.coresBusyWhileSending).reduce((total, cores) => total + cores, 0));
  const kannelHeadline = {
    ...headline(kannel),
    submitsPerSecondAtSmsc: smscRate,
    sendsmsAlone: side.sendsmsAlone,
    kannelCpuUsPerRecipient: sum(kannel.cpuUsPerRecipient, ['bearerbox', 'smsbox']),
    kannelCoresBusy: sum(kannel.coresBusy, ['bearerbox', 'smsbox']),
  };
  const atHeadline = at ? headline(at) : undefined;
  const ratio = (of: (figures: ReturnType<typeof headline>) => number): number | undefined =>
    atHeadline && round(of(kannelHeadline) / of(atHeadline));
  const heldAtSetting = throughput > 0 && smscRate >= AT_THE_BOUND * throughput;
  const deliveredOnce = kannelHeadline.allDelivered && kannelHeadline.duplicates === 0;
  return {
    recipients: kannel.recipients,
    kannelThroughputSetting: throughput > 0 ? throughput : 'unset (no limit)',
    kannel: kannelHeadline,
    africastalking: atHeadline,
    kannelToAt: atHeadline && {
      sent: ratio((figures) => figures.sentPerSecond),
      delivered: ratio((figures) => figures.deliveredPerSecond),
      safelineCpuPerRecipient: ratio((figures) => figures.safelineCpuUsPerRecipient),
      safelineCpuPerRecipientOverIdle: ratio((figures) => figures.safelineCpuUsPerRecipientOverIdle),
    },
    // How much faster safeline sends with nothing in front of it (the AT fake) than Kannel's setting lets through.
    safelineHeadroomOverSetting: atHeadline && throughput > 0 ? round(atHeadline.sentPerSecond / throughput) : undefined,
    limit: limitOf(kannel, throughput, smscRate, side.sendsmsAlone),
    cpuWhileSending: `busiest process ${busiest} at ${busiestCores} of a core; the bench's processes together ${allCores} of ` +
      `${cpus().length} cores; the machine ${round(kannel.machineBusy.whileSending * 100, 0)} % busy`,
    goal:
      throughput > 0
        ? `Kannel's throughput is the limit, every recipient delivered once: ${heldAtSetting && deliveredOnce ? 'PASS' : 'FAIL'}`
        : 'not judged: --kannel-throughput 0 (this run measures the chain at full speed)',
  };
}
