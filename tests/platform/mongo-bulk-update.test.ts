import mongoose from 'mongoose';
import { testServices, uniqueName, withDatabase } from '../support/test-env';

// FerretDB 1.24.2 held every update's connection until the whole command ended, so a bulkWrite
// with more updates than its pool (SQLite: 100) hung the server. tools/mongo-server/patches fixes it.
describe('the MongoDB-compatible server', () => {
  const client = new mongoose.mongo.MongoClient(withDatabase(testServices().mongodbUri, uniqueName('bulk')), { retryWrites: false });
  afterAll(() => client.close());

  it('completes one bulkWrite of 1,000 updates, and stays responsive after it', async () => {
    const messages = client.db().collection<{ _id: string; status: string; attempt: number }>('messages');
    await messages.insertMany(Array.from({ length: 1_000 }, (_, i) => ({ _id: `m${i}`, status: 'queued', attempt: 0 })));

    const result = await messages.bulkWrite(
      Array.from({ length: 1_000 }, (_, i) => ({
        updateOne: { filter: { _id: `m${i}` }, update: { $set: { status: 'sent' }, $inc: { attempt: 1 } } },
      })),
      { ordered: false },
    );

    expect(result.matchedCount).toBe(1_000);
    expect(result.modifiedCount).toBe(1_000);
    expect(await messages.countDocuments({ status: 'sent', attempt: 1 })).toBe(1_000);
    expect(await messages.findOne({ _id: 'm999' })).toEqual({ _id: 'm999', status: 'sent', attempt: 1 });
  });
});
