/** Posts one hop to /ussd exactly as Africa's Talking does (form fields, token in the URL). */
export interface UssdReply {
  status: number;
  contentType: string;
  body: string;
  ms: number;
}

export async function postUssd(baseUrl: string, token: string, fields: { sessionId: string; phoneNumber: string; text: string; serviceCode?: string; networkCode?: string }): Promise<UssdReply> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/ussd?token=${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ serviceCode: '*321#', networkCode: '61002', ...fields }).toString(),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text(), ms: performance.now() - started };
}

/** A caller: keeps AT's cumulative `text` as a phone session would. */
export function caller(baseUrl: string, token: string, phoneNumber: string, sessionId: string) {
  const inputs: string[] = [];
  return {
    inputs,
    dial: () => postUssd(baseUrl, token, { sessionId, phoneNumber, text: '' }),
    async type(input: string): Promise<UssdReply> {
      inputs.push(input);
      return postUssd(baseUrl, token, { sessionId, phoneNumber, text: inputs.join('*') });
    },
    resend: () => postUssd(baseUrl, token, { sessionId, phoneNumber, text: inputs.join('*') }),
  };
}
