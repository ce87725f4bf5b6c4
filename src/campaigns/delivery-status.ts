/** AT's final delivery states (compared in lower case); Sent, Submitted and Buffered are not final. */
export const FINAL_DELIVERY_STATUSES: ReadonlySet<string> = new Set(['success', 'failed', 'rejected', 'absentsubscriber', 'expired']);
export const isFinalDelivery = (status: string): boolean => FINAL_DELIVERY_STATUSES.has(status.toLowerCase());
