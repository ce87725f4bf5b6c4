import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const TAG_BYTES = 16;

export interface PhoneProtection {
  /** Keyed hash (HMAC-SHA256, hex): finds a phone's records without storing the number. */
  hash(phone: string): string;
  /** AES-256-GCM with the current key: "keyId:iv:tag:ciphertext" (base64 parts). */
  encrypt(phone: string): string;
  /** Decrypts with whichever configured key the value names; throws if unknown or tampered. */
  decrypt(sealed: string): string;
}

export function createPhoneProtection(secrets: {
  phoneHashKey: string;
  phoneEncryptionKeys: ReadonlyArray<{ id: string; key: string }>;
}): PhoneProtection {
  const hashKey = Buffer.from(secrets.phoneHashKey, 'base64');
  const keys = new Map(secrets.phoneEncryptionKeys.map(({ id, key }) => [id, Buffer.from(key, 'base64')]));
  const current = secrets.phoneEncryptionKeys[0];
  if (!current || hashKey.length !== 32 || [...keys.values()].some((key) => key.length !== 32)) {
    throw new Error('phone protection needs a 32-byte hash key and at least one 32-byte encryption key');
  }
  const currentKey = keys.get(current.id) as Buffer;

  return {
    hash: (phone) => createHmac('sha256', hashKey).update(phone).digest('hex'),
    encrypt(phone) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_BYTES });
      const data = Buffer.concat([cipher.update(phone, 'utf8'), cipher.final()]);
      return [current.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
    },
    decrypt(sealed) {
      const [keyId = '', iv = '', tag = '', data = ''] = sealed.split(':');
      const key = keys.get(keyId);
      if (!key) throw new Error(`unknown phone encryption key "${keyId}"`);
      // GCM accepts tags as short as 4 bytes unless told otherwise: a truncated tag would make a
      // forgery far cheaper. Ours are always 16.
      const authTag = Buffer.from(tag, 'base64');
      if (authTag.length !== TAG_BYTES) throw new Error('sealed phone number refused: its authentication tag is not 16 bytes');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
