import type { SmscBind } from './kannel';

/*
 * The USSD part of kannel.conf (see shared/reference/kannel-smpp.md), for startKannel's `extraConf`: the USSD
 * binds themselves are SMSC groups with service-type USSD (SmscBind.serviceType); here, per bind, the two TLVs
 * (ussd_service_op 0x0501, its_session_info 0x1383) and one sms-service that takes only those binds' messages,
 * calls safeline's GET /ussd/kannel and sends its answer back (accept-x-kannel-headers: X-Kannel-Meta-Data
 * carries the op and the session, X-Kannel-Coding the coding; max-messages 1: one SMS, cut at 160 / 70).
 */
export function ussdKannelConf(options: { binds: readonly SmscBind[]; safelineUrl: string; token: string }): string {
  const q = (value: string | number): string => `"${String(value).replace(/"/g, '\\"')}"`;
  const ids = options.binds.map((bind) => bind.name);
  const tlvs = ids.flatMap((id) => [
    'group = smpp-tlv',
    'name = ussd_service_op',
    'tag = 0x0501',
    'type = integer',
    'length = 1',
    `smsc-id = ${q(id)}`,
    '',
    'group = smpp-tlv',
    'name = its_session_info',
    'tag = 0x1383',
    'type = octetstring',
    'length = 2',
    `smsc-id = ${q(id)}`,
    '',
  ]);
  const query = 'from=%p&to=%P&text=%a&smsc=%i&meta=%D&coding=%c&charset=%C';
  const service = [
    'group = sms-service',
    'keyword-regex = ".*"',
    `accepted-smsc = ${q(ids.join(';'))}`,
    'catch-all = true',
    `get-url = ${q(`${options.safelineUrl}/ussd/kannel?token=${encodeURIComponent(options.token)}&${query}`)}`,
    'accept-x-kannel-headers = true',
    'max-messages = 1',
    'concatenation = false',
  ];
  return [...tlvs, ...service].join('\n');
}
