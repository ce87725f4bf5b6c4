import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAfricasTalkingGateway } from '../../src/gateway/africastalking-gateway';
import { GatewayError, type SmsGateway } from '../../src/gateway/sms-gateway';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../support/fake-africastalking';

const A = '+22370000001';
const B = '+22376000002';
const C = '+22366000003';
const number = (i: number): string => `+2237${String(i).padStart(7, '0')}`;

let fake: FakeAfricasTalking;
let gateway: SmsGateway;

beforeAll(async () => {
  fake = await startFakeAfricasTalking({ username: 'safeline' });
  gateway = createAfricasTalkingGateway({ username: fake.username, apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 2_000, defaultFrom: 'SAFELINE' });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

/** The GatewayError a send ends with (fails the test when it resolves). */
async function failure(send: Promise<unknown>): Promise<GatewayError> {
  try {
    await send;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('the send should have failed');
}

describe('the Africa\'s Talking gateway, against a fake over HTTP', () => {
  it('really reaches the base URL it was given (the SDK endpoint override works), per instance', async () => {
    const other = await startFakeAfricasTalking({ username: 'other' });
    try {
      const second = createAfricasTalkingGateway({ username: other.username, apiKey: other.apiKey, baseUrl: `${other.url}/`, timeoutMs: 2_000 });
      await gateway.send({ to: [A], text: 'one' });
      await second.send({ to: [B], text: 'two' });
      await gateway.send({ to: [C], text: 'three' });
      expect(fake.requests.map((request) => request.to)).toEqual([[A], [C]]);
      expect(other.requests.map((request) => request.to)).toEqual([[B]]);
      expect(fake.sentCount(A)).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('posts the fields and header AT expects', async () => {
    await gateway.send({ to: [A, B], text: 'Bonjour, appelez le 80 00 11 22' });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      username: 'safeline',
      apikey: fake.apiKey,
      accept: 'application/json',
      to: [A, B],
      message: 'Bonjour, appelez le 80 00 11 22',
      from: 'SAFELINE',
      bulkSMSMode: '1',
      enqueue: '1',
    });
    expect(request?.contentType).toMatch(/^application\/x-www-form-urlencoded/);

    await gateway.send({ to: [A], text: 'x', from: '36111' });
    expect(fake.requests[1]?.from).toBe('36111');
    const noSender = createAfricasTalkingGateway({ username: fake.username, apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 2_000 });
    await noSender.send({ to: [A], text: 'x' });
    expect(fake.requests[2]?.fields).not.toHaveProperty('from');
  });

  it('maps AT\'s 201 answer per recipient: messageId, statusCode, status, cost, parts', async () => {
    const longUcs2 = 'Ɲɛ '.repeat(30); // 90 UTF-16 units of UCS-2: two parts
    fake.statusFor(B, 403);
    const results = await gateway.send({ to: [A, B], text: longUcs2 });
    const acceptedId = fake.accepted[0]?.messageId;
    expect(acceptedId).toMatch(/^ATXid_/);
    expect(results).toEqual([
      { to: A, outcome: 'accepted', messageId: acceptedId, statusCode: 101, status: 'Success', cost: 'XOF 40.0000', parts: 2 },
      { to: B, outcome: 'permanent', statusCode: 403, status: 'InvalidPhoneNumber', cost: '0', parts: 2 },
    ]);
  });

  const table: Array<[number, 'accepted' | 'transient' | 'permanent']> = [
    [100, 'accepted'],
    [101, 'accepted'],
    [102, 'accepted'],
    [401, 'transient'],
    [402, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [405, 'transient'],
    [406, 'permanent'],
    [407, 'transient'],
    [409, 'permanent'],
    [500, 'transient'],
    [501, 'transient'],
    [502, 'permanent'],
    [999, 'transient'],
  ];
  it.each(table)('maps per-recipient status %i to %s', async (code, outcome) => {
    fake.statusFor(B, code);
    const [first, second] = await gateway.send({ to: [A, B], text: 'hello' });
    expect(first?.outcome).toBe('accepted');
    expect(second).toMatchObject({ to: B, statusCode: code, outcome });
    expect(second?.messageId === undefined).toBe(outcome !== 'accepted');
  });

  it('throws balance when nothing was accepted for want of credit, and rejected for an unknown sender', async () => {
    fake.statusBy(() => 405);
    expect((await failure(gateway.send({ to: [A, B], text: 'x' }))).kind).toBe('balance');
    fake.statusBy(() => 402);
    expect((await failure(gateway.send({ to: [A, B], text: 'x' }))).kind).toBe('rejected');
    fake.statusBy(undefined);
    fake.respondNext({ kind: 'json', body: { SMSMessageData: { Message: 'InsufficientBalance', Recipients: [] } } });
    expect((await failure(gateway.send({ to: [A], text: 'x' }))).kind).toBe('balance');

    // What AT really answers to a sender ID it does not know: an empty list.
    const strict = await startFakeAfricasTalking({ senderIds: ['SAFELINE'] });
    try {
      const wrongSender = createAfricasTalkingGateway({ username: strict.username, apiKey: strict.apiKey, baseUrl: strict.url, timeoutMs: 2_000, defaultFrom: 'NOPE' });
      expect((await failure(wrongSender.send({ to: [A], text: 'x' }))).kind).toBe('rejected');
      expect(strict.requests).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('marks recipients missing from AT\'s answer transient', async () => {
    fake.respondNext({ kind: 'json', body: { SMSMessageData: { Message: 'Sent to 1/3', Recipients: [{ statusCode: 101, number: B, status: 'Success', cost: 'XOF 20.0000', messageId: 'ATXid_b' }] } } });
    const results = await gateway.send({ to: [A, B, C], text: 'x' });
    expect(results.map((result) => [result.to, result.outcome, result.statusCode])).toEqual([
      [A, 'transient', 0],
      [B, 'accepted', 101],
      [C, 'transient', 0],
    ]);
  });

  it('maps HTTP 401 (wrong key) to auth', async () => {
    const wrongKey = createAfricasTalkingGateway({ username: fake.username, apiKey: 'not-the-key', baseUrl: fake.url, timeoutMs: 2_000 });
    const error = await failure(wrongKey.send({ to: [A], text: 'x' }));
    expect(error.kind).toBe('auth');
    expect(fake.sentCount(A)).toBe(0);
    fake.respondNext({ kind: 'status', status: 401 });
    expect((await failure(gateway.send({ to: [A], text: 'x' }))).kind).toBe('auth');
  });

  it.each([500, 502, 503, 429])('maps HTTP %i to transient, and the next send goes through', async (status) => {
    fake.respondNext({ kind: 'status', status });
    const error = await failure(gateway.send({ to: [A], text: 'x' }));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain(String(status));
    expect((await gateway.send({ to: [A], text: 'x' }))[0]?.outcome).toBe('accepted');
  });

  it('maps other HTTP 4xx to rejected, and network errors to transient', async () => {
    fake.respondNext({ kind: 'status', status: 400, body: 'Bad Request' });
    expect((await failure(gateway.send({ to: [A], text: 'x' }))).kind).toBe('rejected');
    fake.respondNext({ kind: 'drop' });
    expect((await failure(gateway.send({ to: [A], text: 'x' }))).kind).toBe('transient');

    const closedPort = await new Promise<number>((resolve) => {
      const server: Server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const nowhere = createAfricasTalkingGateway({ username: 'u', apiKey: 'k', baseUrl: `http://127.0.0.1:${closedPort}`, timeoutMs: 2_000 });
    const error = await failure(nowhere.send({ to: [A], text: 'x' }));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('gives up on a call that hangs, as transient, soon after the timeout', async () => {
    const impatient = createAfricasTalkingGateway({ username: fake.username, apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 300 });
    fake.respondNext({ kind: 'hang' });
    const started = Date.now();
    const error = await failure(impatient.send({ to: [A], text: 'x' }));
    const elapsed = Date.now() - started;
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/timed out after 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800);
    expect(fake.requests).toHaveLength(1);
  });

  it('turns the SDK\'s own refusal of a malformed number into rejected, without echoing the number', async () => {
    const error = await failure(gateway.send({ to: [A, '12345'], text: 'x' }));
    expect(error.kind).toBe('rejected');
    expect(error.message).not.toContain('12345');
    expect(error.message).not.toContain(A);
    expect(fake.requests).toHaveLength(0);
  });

  it('sends nothing for an empty batch', async () => {
    await expect(gateway.send({ to: [], text: 'x' })).resolves.toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('the fake itself', () => {
  it('mixes transient failures reproducibly from a seed, and counts duplicates', async () => {
    const outcomes = async (): Promise<string[]> => {
      const mixed = await startFakeAfricasTalking({ transientRate: 0.2, seed: 42 });
      try {
        const through = createAfricasTalkingGateway({ username: mixed.username, apiKey: mixed.apiKey, baseUrl: mixed.url, timeoutMs: 2_000 });
        const recipients = Array.from({ length: 200 }, (_, i) => number(i));
        const results = await through.send({ to: recipients, text: 'x' });
        await through.send({ to: [number(0), number(1)], text: 'again' });
        expect(mixed.duplicates().length).toBeGreaterThan(0);
        expect(mixed.attempts(number(0))).toBe(2);
        return results.map((result) => result.outcome);
      } finally {
        await mixed.close();
      }
    };
    const first = await outcomes();
    const transient = first.filter((outcome) => outcome === 'transient').length;
    expect(transient).toBeGreaterThan(20);
    expect(transient).toBeLessThan(60);
    expect(await outcomes()).toEqual(first);
  });

  it('takes 10,000 recipients in batches quickly and posts their delivery reports', async () => {
    const received: Array<Record<string, string>> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(Object.fromEntries(new URLSearchParams(body)));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      fake.deliveryReportsTo(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/sms/delivery`, { failureRate: 0.1 });
      const recipients = Array.from({ length: 10_000 }, (_, i) => number(i));
      for (let i = 0; i < recipients.length; i += 1_000) {
        const results = await gateway.send({ to: recipients.slice(i, i + 1_000), text: 'campaign' });
        expect(results.every((result) => result.outcome === 'accepted')).toBe(true);
      }
      expect(fake.accepted).toHaveLength(10_000);
      expect(fake.duplicates()).toEqual([]);
      await fake.deliveryReportsSettled();
      expect(received).toHaveLength(10_000);
      expect(fake.deliveryReports.every((report) => report.httpStatus === 200)).toBe(true);
      const failed = received.filter((report) => report.status === 'Failed');
      expect(failed.length).toBeGreaterThan(500);
      expect(failed[0]).toMatchObject({ failureReason: 'DeliveryFailure', retryCount: '0', networkCode: '61002' });
      expect(received[0]).toMatchObject({ id: fake.accepted[0]?.messageId, phoneNumber: number(0) });
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
