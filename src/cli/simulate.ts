import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { readEnvironment } from '../config/config';

/**
 * `npm run simulate -- --phone +22370000000 [--url http://127.0.0.1:3000] [--token T] [--inputs 1,2,98]`
 * dials the running server from the terminal with the requests Africa's Talking would send.
 * The token defaults to USSD_CALLBACK_TOKEN, else the one `npm run dev` generated under DATA_DIR.
 */
function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

function defaultToken(): string | undefined {
  const env = readEnvironment();
  if (env.USSD_CALLBACK_TOKEN) return env.USSD_CALLBACK_TOKEN;
  const file = resolve(env.DATA_DIR ?? './data', 'dev-secrets.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>).USSD_CALLBACK_TOKEN : undefined;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const phoneNumber = option(args, 'phone') ?? '+22370000000';
  const url = option(args, 'url') ?? `http://127.0.0.1:${readEnvironment().PORT ?? '3000'}`;
  const token = option(args, 'token') ?? defaultToken();
  const scripted = option(args, 'inputs')?.split(',');
  if (!token) {
    console.error('no token: pass --token, set USSD_CALLBACK_TOKEN, or start `npm run dev` first');
    return 2;
  }
  const sessionId = `SIM_${randomUUID()}`;
  const inputs: string[] = [];
  const terminal = scripted ? undefined : createInterface({ input: process.stdin, output: process.stdout });
  console.log(`dialling *321# as ${phoneNumber} (session ${sessionId}) at ${url}`);
  try {
    for (;;) {
      const res = await fetch(`${url}/ussd?token=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          sessionId,
          serviceCode: '*321#',
          networkCode: '61002',
          phoneNumber,
          text: inputs.join('*'),
        }).toString(),
      });
      const body = await res.text();
      const [kind, ...rest] = body.split(' ');
      console.log(`\n┌${'─'.repeat(30)} ${kind} (HTTP ${res.status})\n│ ${rest.join(' ').split('\n').join('\n│ ')}\n└${'─'.repeat(36)}`);
      if (kind !== 'CON') return res.status === 200 ? 0 : 1;
      const next = scripted ? scripted.shift() : await terminal?.question('> ');
      if (next === undefined) return 0;
      if (scripted) console.log(`> ${next}`);
      inputs.push(next);
    }
  } finally {
    terminal?.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`simulate: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
