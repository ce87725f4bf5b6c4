/**
 * Kannel's delivery reports, as its dlr-url brings them (`id=<our id>&type=%d&status=%A`), in the words of
 * the delivery-report inbox (AT's statuses, so that campaign counters move the same way). Pure.
 *
 *   type 1  delivered to the phone           Success    final
 *   type 2  not delivered                    Failed     final
 *   type 16 refused by the SMSC (NACK)       Rejected   final
 *   type 4  buffered by the SMSC             Buffered   not final
 *   type 8  accepted by the SMSC             Submitted  not final
 *
 * %A is the SMSC's answer: "ACK/", "NACK/0x0000000b/Invalid Destination Address", or the receipt's text
 * ("id:.. stat:UNDELIV err:001 ... text:<the message's first characters>"). Only its stat and err, or the NACK,
 * are kept: never the text. A type 16 "NACK/no SMSC" is Kannel's own refusal of a send that sendsms already
 * answered 403 Not routable (permanent): it is acknowledged and not kept.
 */
export type KannelReport =
  | { readonly ok: true; readonly id: string; readonly status: string; readonly failureReason: string }
  | { readonly ok: true; readonly ignore: string }
  | { readonly ok: false; readonly reason: string };

const STATUSES: Readonly<Record<string, string>> = { '1': 'Success', '2': 'Failed', '16': 'Rejected', '4': 'Buffered', '8': 'Submitted' };

export function readKannelReport(query: URLSearchParams): KannelReport {
  const id = query.get('id') ?? '';
  const type = query.get('type') ?? '';
  const answer = (query.get('status') ?? '').slice(0, 500);
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) return { ok: false, reason: 'id: expected our message id' };
  const status = STATUSES[type];
  if (!status) return { ok: false, reason: 'type: expected 1, 2, 4, 8 or 16' };
  if (type === '16' && /^NACK\/no SMSC/i.test(answer)) return { ok: true, ignore: 'refused by Kannel itself (no SMSC), answered at send' };
  const stat = /\bstat:(\w{1,20})/i.exec(answer)?.[1];
  const err = /\berr:(\w{1,10})/i.exec(answer)?.[1];
  const failureReason =
    type === '16' ? answer.replace(/[^\x20-\x7e]/g, '').slice(0, 100)
    : type === '2' && stat ? `${stat}${err ? ` err:${err}` : ''}`
    : '';
  return { ok: true, id, status, failureReason };
}
