import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseConfig, readEnvironment } from '../config/config';
import { generateSecrets } from '../config/generated-secrets';
import { createLogger } from '../platform/logger';
import { connectMongo } from '../platform/mongo';
import { createAuditLog } from '../staff/audit-log';
import { hashPassword } from '../staff/passwords';
import { ROLES, isRole } from '../staff/roles';
import { DuplicateEmailError, createStaffStore } from '../staff/staff-store';

/**
 * `npm run staff:create -- --email E --role R[,R2] [--name N]`: creates a staff user. The password is
 * asked twice without echo, or read from STAFF_PASSWORD for scripts. Without MONGODB_URI it uses the
 * server `npm run dev` runs.
 */
async function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stdout.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const answer = rl.question(question);
  muted = true;
  const value = await answer;
  rl.close();
  process.stdout.write('\n');
  return value;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const email = option('email');
  const roles = (option('role') ?? '').split(',').filter(Boolean);
  if (!email || roles.length === 0 || !roles.every(isRole)) {
    console.error(`usage: npm run staff:create -- --email E --role ${ROLES.join('|')}[,...] [--name N]`);
    return 2;
  }
  const env = readEnvironment();
  const config = parseConfig({ ...generateSecrets(), ...env });
  const uri = config.mongodbUri ?? `mongodb://127.0.0.1:${config.embeddedMongodbPort}/safeline`;
  let password = env.STAFF_PASSWORD;
  if (!password) {
    password = await askHidden('Password (12 characters or more): ');
    if ((await askHidden('Again: ')) !== password) {
      console.error('the two passwords differ');
      return 2;
    }
  }
  if (password.length < 12) {
    console.error('the password needs 12 characters or more');
    return 2;
  }
  const logger = createLogger({ level: 'warn', name: 'staff-create' });
  const mongo = connectMongo(uri, logger);
  try {
    await mongo.opened;
    const users = createStaffStore(mongo.connection);
    const user = await users.create(
      {
        email,
        name: option('name') ?? email.split('@')[0] ?? email,
        passwordHash: await hashPassword(password),
        roles: roles.filter(isRole),
      },
      new Date(),
    );
    await createAuditLog(mongo.connection).append({
      actor: 'cli',
      action: 'staff.created',
      target: user._id,
      details: { roles: user.roles.join(',') },
    });
    console.log(`created ${user.email} (${user.roles.join(', ')}), id ${user._id}`);
    return 0;
  } catch (err) {
    if (err instanceof DuplicateEmailError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await mongo.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`staff:create: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
