import { readKannelInbound } from '../../src/gateway/kannel-inbound';
import { readKannelReport } from '../../src/gateway/kannel-reports';
import { kannelProblems, parseKannelStatus } from '../../src/gateway/kannel-status';

/** What Kannel 1.4.5 sends, as captured from the real boxes (tests/gateway/kannel.test.ts runs them end to end). */
const STATUS = `Kannel bearerbox version \`1.4.5'.
Status: running, uptime 0d 0h 0m 5s

SMS: received 2 (0 queued), sent 3 (0 queued), store size 0

Box connections:
    smsbox:(none), IP 127.0.0.1 (0 queued), (on-line 0d 0h 0m 4s)  


SMSC connections:
    orange[orange]    SMPP:127.0.0.1:41515/41515:safeline: (re-connecting, rcvd: sms 2 (0.00,0.00,0.00) / dlr 6 (0.00,0.00,0.00), failed 0, queued 0 msgs)
    moov[moov]    SMPP:127.0.0.1:36289/36289:safeline: (online 5s, rcvd: sms 0 (0.00,0.00,0.00) / dlr 0 (0.00,0.00,0.00), failed 0, queued 0 msgs)

`;

describe("Kannel's status.txt", () => {
  it('gives each bind by smsc-id with its state, and the smsboxes connected', () => {
    expect(parseKannelStatus(STATUS)).toEqual({
      recognised: true,
      smsboxes: 1,
      smscs: [{ id: 'orange', state: 're-connecting' }, { id: 'moov', state: 'online' }],
    });
    expect(kannelProblems(parseKannelStatus(STATUS), ['moov'])).toEqual(['SMSC orange is re-connecting']);
  });

  it('says so when smsbox is gone, the smsc we send over is not configured, or the page is not bearerbox\'s', () => {
    const noBox = STATUS.replace(/^\s+smsbox:.*$/m, '');
    expect(kannelProblems(parseKannelStatus(noBox), ['telecel'])).toEqual([
      'SMSC orange is re-connecting', 'SMSC telecel is not configured in Kannel', 'no smsbox is connected to bearerbox',
    ]);
    expect(kannelProblems(parseKannelStatus('<html>Denied</html>'))).toEqual(['status.txt is not a bearerbox status page']);
  });
});

describe("Kannel's get-url", () => {
  it('reads the text in the charset Kannel names: UTF-8 (mo-recode), UTF-16BE (without it), Latin-1', () => {
    const utf8 = readKannelInbound(
      'from=%2B22370000009&to=321&text=A+dabila+%C9%9B+%C9%94+%C9%B2&smsc=orange&coding=0&charset=UTF-8&id=abc',
    );
    expect(utf8).toEqual({ ok: true, sms: { from: '+22370000009', to: '321', text: 'A dabila ɛ ɔ ɲ', id: 'abc', smsc: 'orange' } });
    const utf16 =
      `text=${[...Buffer.from('Dabila ɲ', 'utf16le').swap16()].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}` +
      '&charset=UTF-16BE&from=22370000009';
    expect(readKannelInbound(utf16)).toMatchObject({ ok: true, sms: { text: 'Dabila ɲ', from: '+22370000009' } });
    expect(readKannelInbound('text=Arr%EAt&charset=ISO-8859-1&from=70000009')).toMatchObject({
      ok: true,
      sms: { text: 'Arrêt', from: '70000009' },
    });
    expect(readKannelInbound('text=x&charset=EBCDIC')).toEqual({ ok: false, reason: 'text: not readable in the charset given' });
  });
});

describe("Kannel's dlr-url", () => {
  const report = (query: string) => readKannelReport(new URLSearchParams(query));
  it('maps the types to the statuses the inbox counts, keeping stat and err but never the receipt text', () => {
    const receipt = 'id:776610001 sub:001 dlvrd:000 submit date:2612040337 done date:2612040337 stat:UNDELIV err:001 text:Avant de partir';
    expect(report(`id=kannel-a&type=2&status=${encodeURIComponent(receipt)}`)).toEqual({
      ok: true, id: 'kannel-a', status: 'Failed', failureReason: 'UNDELIV err:001',
    });
    expect(report('id=kannel-a&type=1&status=stat%3ADELIVRD')).toEqual({ ok: true, id: 'kannel-a', status: 'Success', failureReason: '' });
    expect(report('id=kannel-a&type=16&status=NACK%2F0x0000000b%2FInvalid+Destination+Address')).toMatchObject({
      status: 'Rejected',
      failureReason: 'NACK/0x0000000b/Invalid Destination Address',
    });
    expect(report('id=kannel-a&type=8&status=ACK%2F')).toMatchObject({ status: 'Submitted' });
    expect(report('id=kannel-a&type=4')).toMatchObject({ status: 'Buffered' });
    expect(report('id=kannel-a&type=16&status=NACK%2Fno+SMSC')).toMatchObject({ ok: true, ignore: expect.any(String) as unknown });
    expect(report('id=kannel-a&type=32')).toMatchObject({ ok: false });
  });
});
