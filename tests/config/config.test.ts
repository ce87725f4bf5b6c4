import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { ConfigError, parseConfig, type Environment } from '../../src/config/config';
import { generateSecrets } from '../../src/config/generated-secrets';
import { productionArtifact } from '../support/production-artifact';

const secrets = generateSecrets();
const parse = (env: Environment) => parseConfig({ ...secrets, ...env });

describe('parseConfig', () => {
  it('fills defaults and freezes the result', () => {
    const config = parse({ MONGODB_URI: 'mongodb://db:27017/safeline' });
    expect(config.role).toBe('all');
    expect(config.http).toEqual({ host: '0.0.0.0', port: 3000, trustProxy: 'loopback' });
    expect(parse({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.smsGateway).toEqual({ kind: 'emulator' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config as { role: string }).role = 'api';
    }).toThrow(TypeError);
  });

  it('names the variable that is invalid, with what it got', () => {
    expect(() => parse({ PORT: 'eighty' })).toThrow(/^invalid configuration: PORT .*\(got "eighty"\)$/);
    try {
      parse({ PORT: '70000', SAFELINE_ROLE: 'boss' });
      throw new Error('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variables.sort()).toEqual(['PORT', 'SAFELINE_ROLE']);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('requires the Africa\'s Talking credentials only for that gateway, and never echoes the key', () => {
    expect(() => parse({ SMS_GATEWAY: 'africastalking', AT_USERNAME: 'sandbox' })).toThrow(/AT_API_KEY is required when SMS_GATEWAY=africastalking \(not set\)/);
    const config = parse({ SMS_GATEWAY: 'africastalking', AT_USERNAME: 'sandbox', AT_API_KEY: 'k' });
    expect(config.smsGateway).toEqual({ kind: 'africastalking', username: 'sandbox', apiKey: 'k' });
  });

  it('requires Kannel\'s sendsms and admin settings only for that gateway', () => {
    const kannel = {
      SMS_GATEWAY: 'kannel',
      KANNEL_SENDSMS_URL: 'http://127.0.0.1:13013/cgi-bin/sendsms',
      KANNEL_USERNAME: 'safeline',
      KANNEL_PASSWORD: 'sendsms-secret',
      KANNEL_SMSC: 'orange',
      KANNEL_ADMIN_URL: 'http://127.0.0.1:13000',
      KANNEL_ADMIN_PASSWORD: 'status-secret',
    };
    expect(() => parse({ ...kannel, KANNEL_PASSWORD: '', KANNEL_ADMIN_URL: '' })).toThrow(
      /KANNEL_PASSWORD is required when SMS_GATEWAY=kannel \(not set\).*KANNEL_ADMIN_URL is required/,
    );
    expect(() => parse({ ...kannel, KANNEL_SENDSMS_URL: 'http://kannel/sendsms?user=x' })).toThrow(/KANNEL_SENDSMS_URL must be an http/);
    expect(() => parse({ ...kannel, KANNEL_SMSC: 'orange mali' })).toThrow(/KANNEL_SMSC letters, digits/);
    expect(parse(kannel).smsGateway).toEqual({
      kind: 'kannel', sendsmsUrl: kannel.KANNEL_SENDSMS_URL, username: 'safeline', password: 'sendsms-secret', smsc: 'orange',
      adminUrl: kannel.KANNEL_ADMIN_URL, adminPassword: 'status-secret',
    });
    expect(parse({ ...kannel, KANNEL_CALLBACK_BASE_URL: 'http://safeline:3000' }).smsGateway).toMatchObject({
      callbackBaseUrl: 'http://safeline:3000',
    });
  });

  it('gives the delivery-report window and the report period in hours and days, the period no shorter than the window', () => {
    expect(parse({}).sms).toMatchObject({ reportWindowMs: 72 * 3_600_000, reportPeriodMs: 14 * 86_400_000 });
    expect(parse({ DELIVERY_REPORT_WINDOW_HOURS: '0.5', CAMPAIGN_REPORT_DAYS: '1' }).sms).toMatchObject({ reportWindowMs: 1_800_000, reportPeriodMs: 86_400_000 });
    expect(() => parse({ DELIVERY_REPORT_WINDOW_HOURS: '48', CAMPAIGN_REPORT_DAYS: '1' })).toThrow(/CAMPAIGN_REPORT_DAYS must be at least DELIVERY_REPORT_WINDOW_HOURS/);
  });

  it('treats empty strings as unset, as docker-compose passes them', () => {
    expect(parse({ PORT: '', LOG_LEVEL: '' }).http.port).toBe(3000);
  });

  it('requires the secrets, and checks their shape without echoing them', () => {
    try {
      parseConfig({ PHONE_HASH_KEY: 'c2hvcnQ=', PHONE_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' });
      throw new Error('should have thrown');
    } catch (err) {
      expect((err as ConfigError).variables.sort()).toEqual(['PHONE_ENCRYPTION_KEYS', 'PHONE_HASH_KEY', 'SMS_CALLBACK_TOKEN', 'USSD_CALLBACK_TOKEN']);
      expect((err as Error).message).toContain('PHONE_HASH_KEY must be 32 random bytes in base64 (openssl rand -base64 32) (set)');
      expect((err as Error).message).not.toContain('c2hvcnQ=');
    }
    const config = parse({ PHONE_ENCRYPTION_KEYS: `new:${secrets.PHONE_HASH_KEY},old:${secrets.PHONE_HASH_KEY}` });
    expect(config.secrets.phoneEncryptionKeys.map((key) => key.id)).toEqual(['new', 'old']);
  });

  it('rejects a MongoDB URI that is not one', () => {
    expect(() => parse({ MONGODB_URI: 'localhost:27017' })).toThrow(/MONGODB_URI must be a mongodb:\/\//);
  });

  it('names a bad MONGODB_URI or REDIS_URL without its password', () => {
    const messageOf = (env: Environment): string => {
      try {
        parse(env);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('should have thrown');
    };
    const cases: Environment[] = [
      { MONGODB_URI: 'mongo://admin:Pa55-secret@db:27017/safeline' },
      { MONGODB_URI: 'admin:Pa55-secret@db:27017' },
      // Long enough to be cut short before its "@", and a password holding "@" and "/".
      { MONGODB_URI: 'mongodbx://a-rather-long-user-name-for-the-db:Pa55-secret@x/y@db:27017/safeline' },
      { REDIS_URL: 'http://:Pa55-secret@redis:6379' },
      { REDIS_URL: 'redis://default:Pa55-secret@redis:6379 extra' },
    ];
    for (const env of cases) {
      const message = messageOf(env);
      expect(message).toMatch(/^invalid configuration: (MONGODB_URI|REDIS_URL) /);
      expect(message).not.toMatch(/Pa55|secret/);
    }
    expect(messageOf({ REDIS_URL: 'http://:Pa55-secret@redis:6379' })).toContain('got "http://***@redis:6379"');
  });
});

/** A TCP listener that records whether anything connected to it. */
async function trap(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, connections: () => count };
}

describe('the entry point with a bad variable (the production artifact)', () => {
  it('exits non-zero with one line naming it, before opening any connection', async () => {
    const mongo = await trap();
    const redis = await trap();
    const cwd = await productionArtifact();
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['dist/main.js'], {
        cwd,
        env: {
          PATH: process.env.PATH,
          MONGODB_URI: `mongodb://127.0.0.1:${mongo.port}/x`,
          REDIS_URL: `redis://127.0.0.1:${redis.port}`,
          PORT: 'not-a-port',
          ...secrets,
        },
      });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr, stdout }));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    mongo.server.close();
    redis.server.close();

    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^safeline: invalid configuration: PORT .*not-a-port/);
    expect(mongo.connections()).toBe(0);
    expect(redis.connections()).toBe(0);
  }, 240_000);

  it('refuses to start without MONGODB_URI and says how to get one', async () => {
    const cwd = await productionArtifact();
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['dist/main.js', 'api'], { cwd, env: { PATH: process.env.PATH, ...secrets } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toMatch(/^safeline: invalid configuration: MONGODB_URI is required/);
  }, 240_000);
});
