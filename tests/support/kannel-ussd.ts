import type { SmscBind } from '../../src/dev-services/kannel';

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

/** Kannel's URL encoding (octstr_url_encode): letters and digits as they are, a space as "+", anything else %XX. */
export function kannelUrlEncode(bytes: Buffer | string): string {
  const input = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return [...input]
    .map((byte) =>
      /[A-Za-z0-9]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : byte === 0x20 ? '+' : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

export interface KannelUssdReply {
  readonly status: number;
  readonly body: string;
  readonly meta: string | null;
  readonly coding: string | null;
  readonly ms: number;
}

/**
 * One hop to GET /ussd/kannel as Kannel's get-url makes it (see ussdKannelConf): %D is the meta-data string,
 * each value encoded byte by byte, the whole of it encoded again as a query value. Seen from Kannel 1.4.5 for
 * session bytes 0x20 0x2B: `meta=%3Fsmpp%3Fussd_service_op%3D%2501%26its_session_info%3D%2B%252B%26`.
 */
export async function getKannelUssd(
  baseUrl: string,
  hop: { token: string; from: string; text: string; op?: number; session?: Buffer; smsc?: string; meta?: string },
): Promise<KannelUssdReply> {
  const tlvs =
    `${hop.op === undefined ? '' : `ussd_service_op=${kannelUrlEncode(Buffer.from([hop.op]))}&`}` +
    `${hop.session ? `its_session_info=${kannelUrlEncode(hop.session)}&` : ''}`;
  const meta = hop.meta ?? (tlvs ? `?smpp?${tlvs}` : '');
  const query = [
    `token=${encodeURIComponent(hop.token)}`,
    `from=${kannelUrlEncode(hop.from)}`,
    'to=384',
    `text=${kannelUrlEncode(hop.text)}`,
    `smsc=${kannelUrlEncode(hop.smsc ?? 'ussd-orange')}`,
    `meta=${kannelUrlEncode(meta)}`,
    'coding=0',
    'charset=UTF-8',
  ].join('&');
  const started = performance.now();
  const res = await fetch(`${baseUrl}/ussd/kannel?${query}`);
  const body = await res.text();
  return {
    status: res.status,
    body,
    meta: res.headers.get('x-kannel-meta-data'),
    coding: res.headers.get('x-kannel-coding'),
    ms: performance.now() - started,
  };
}
