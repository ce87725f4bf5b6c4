import type { Logger } from '../platform/logger';
import type { ReceivedReport } from './delivery-reports';
import type { MessageStore } from './message-store';
import type { RunProgressStore } from './run-progress';

/**
 * A send recorded "unknown" (a worker died with the gateway's answer) did reach the gateway when its
 * delivery report comes: the report carries the messageId and the phone, and the phone's keyed hash
 * names the one recipient counted unknown under it in the report window. The result is marked accepted
 * under that messageId first (idempotent), then the counters move once (unknown -1, sent +1) with the
 * messageId mapped to the run, so this report and the later ones count as for any sent message.
 * Returns the run of each report, those found now included.
 */
export async function linkUnknownSends(
  deps: { progress: RunProgressStore; messages: Pick<MessageStore, 'linkUnknownResult'>; logger: Logger },
  reports: readonly ReceivedReport[],
  runs: ReadonlyArray<string | null>,
): Promise<Array<string | null>> {
  const found = [...runs];
  const byPhone = new Map<string, ReceivedReport>();
  reports.forEach((report, i) => {
    if (!found[i] && report.phone && !byPhone.has(report.phone)) byPhone.set(report.phone, report);
  });
  if (byPhone.size === 0) return found;
  const phones = [...byPhone.keys()];
  const matches = await deps.progress.unknownSendsOf(phones);
  let linked = 0;
  for (const [k, phone] of phones.entries()) {
    const match = matches[k];
    const report = byPhone.get(phone);
    if (!match || !report) continue;
    await deps.messages.linkUnknownResult(match.message, report.id);
    if (!(await deps.progress.linkUnknown(match, phone, report.id))) continue;
    linked += 1;
    reports.forEach((other, i) => {
      if (other.id === report.id) found[i] = match.run;
    });
  }
  if (linked) deps.logger.info({ linked }, 'sends recorded unknown found by their delivery reports');
  return found;
}
