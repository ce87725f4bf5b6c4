import Redis from 'ioredis';
import { takeLease } from '../../src/platform/redis-lease';
import { sleep } from '../../src/platform/with-timeout';
import { testServices, uniqueName } from '../support/test-env';

// Real Redis. A lease's holder is one connection; a process that dies takes its connection with it.
const connect = () => new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
let clients: Redis[] = [];
afterEach(() => {
  for (const client of clients) client.disconnect();
  clients = [];
});
const client = () => {
  const made = connect();
  clients.push(made);
  return made;
};
/** A batch's lease key, its holder's connection, and another worker's. */
const contenders = () => ({ key: `${uniqueName('lease')}:batch`, holder: client(), other: client() });

it('holds while its holder works past the lease time, and is free once released', async () => {
  const { key, holder, other } = contenders();
  const lease = await takeLease(holder, key, 300);
  expect(lease).not.toBeNull();
  await sleep(1_000); // three lease times of slow work
  expect(await takeLease(other, key, 300)).toBeNull();
  await lease?.release();
  const next = await takeLease(other, key, 300);
  expect(next).not.toBeNull();
  await next?.release();
});

it('lapses a lease time after its holder is gone, for another to take', async () => {
  const { key, holder, other } = contenders();
  const lease = await takeLease(holder, key, 300);
  expect(lease).not.toBeNull();
  holder.disconnect(); // the holder's process died: no more renewals
  expect(await takeLease(other, key, 300)).toBeNull();
  await sleep(400);
  const next = await takeLease(other, key, 300);
  expect(next).not.toBeNull();
  await next?.release();
  await lease?.release().catch(() => undefined); // stops the dead holder's renewal timer
});
