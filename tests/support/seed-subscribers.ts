import type { Connection } from 'mongoose';
import type { PhoneProtection } from '../../src/shared/phone-protection';

/**
 * Opted-in subscribers written straight into the real database in one insertMany: test set-up at
 * the speed of the server, not of one consent at a time. Numbers: <prefix><from..from+count> (8 digits
 * after +223; prefix "+2237" unless given). Written as records were before number blocks were kept (no block).
 */
export async function seedSubscribers(
  connection: Connection,
  protection: PhoneProtection,
  options: { from: number; count: number; language?: string; topics?: string[]; region?: string; joinedAt?: Date; prefix?: string },
): Promise<string[]> {
  const prefix = options.prefix ?? '+2237';
  const phones = Array.from({ length: options.count }, (_, i) => `${prefix}${String(options.from + i).padStart(12 - prefix.length, '0')}`);
  const at = options.joinedAt ?? new Date(Date.now() - 60_000);
  const docs = phones.map((phone) => ({
    _id: protection.hash(phone),
    phoneSealed: protection.encrypt(phone),
    language: options.language ?? 'fr',
    region: options.region ?? 'bamako',
    topics: options.topics ?? ['recruiters'],
    consent: { status: 'opted_in', source: 'import', at, evidence: 'test seed' },
    createdAt: at,
    updatedAt: at,
    flagged: null,
  }));
  for (let i = 0; i < docs.length; i += 1_000) await connection.collection('subscribers').insertMany(docs.slice(i, i + 1_000) as never[]);
  return phones;
}
