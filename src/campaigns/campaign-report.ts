import { csvCell } from '../shared/csv-cell';
import { isFinalDelivery } from './delivery-status';
import type { DeliveryReport, SendResult } from './message-store';


/**
 * One line per recipient of a run: what the gateway said, what cost, and the last word of the
 * delivery reports (a final state wins over any later intermediate one). Numbers only when given.
 */
export function campaignReportCsv(
  results: readonly SendResult[],
  reports: readonly DeliveryReport[],
  phoneOf?: (subscriber: string) => string,
): string {
  const delivery = new Map<string, DeliveryReport>();
  for (const report of [...reports].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const current = delivery.get(report.messageId);
    if (!current || !isFinalDelivery(current.status)) delivery.set(report.messageId, report);
  }
  const header = [
    'message',
    'subscriber',
    ...(phoneOf ? ['phone'] : []),
    'outcome',
    'status_code',
    'status',
    'gateway_message_id',
    'cost',
    'parts',
    'delivery',
    'failure_reason',
    'at',
  ];
  const lines = results.map((result) => {
    const messageId = result.outcome === 'accepted' ? (result.messageId ?? result._id) : '';
    const report = messageId ? delivery.get(messageId) : undefined;
    return [
      result.message,
      result.subscriber.slice(0, 12),
      ...(phoneOf ? [phoneOf(result.subscriber)] : []),
      result.outcome,
      result.statusCode,
      result.status,
      messageId,
      result.cost,
      result.parts,
      report?.status ?? '',
      report?.failureReason ?? '',
      result.at.toISOString(),
    ]
      .map(csvCell)
      .join(',');
  });
  return `${header.join(',')}\r\n${lines.map((line) => `${line}\r\n`).join('')}`;
}
