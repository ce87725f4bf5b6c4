import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GENERATED_SECRETS, type Environment } from './config';

/** Fresh random values for the secrets a local run needs. */
export function generateSecrets(): Record<(typeof GENERATED_SECRETS)[number], string> {
  return {
    USSD_CALLBACK_TOKEN: randomBytes(18).toString('base64url'),
    SMS_CALLBACK_TOKEN: randomBytes(18).toString('base64url'),
    PHONE_HASH_KEY: randomBytes(32).toString('base64'),
    PHONE_ENCRYPTION_KEYS: `local1:${randomBytes(32).toString('base64')}`,
    METRICS_TOKEN: randomBytes(18).toString('base64url'),
  };
}

/**
 * `npm run dev` only: secrets not given in the environment are generated once and kept in a
 * file under DATA_DIR (mode 600), so encrypted numbers stay readable across restarts.
 */
export function localSecrets(file: string, env: Environment): Environment {
  const missing = GENERATED_SECRETS.filter((name) => !env[name]);
  if (missing.length === 0) return env;
  let stored: Record<string, string> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  if (missing.some((name) => !stored[name])) {
    stored = { ...generateSecrets(), ...stored };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return { ...Object.fromEntries(missing.map((name) => [name, stored[name]])), ...env };
}
