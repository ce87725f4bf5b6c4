import { hashPassword } from '../../src/staff/passwords';
import type { Role } from '../../src/staff/roles';
import type { StaffStore } from '../../src/staff/staff-store';

export const PASSWORD = 'correct horse battery staple';

export interface StaffReply {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
  text: string;
  headers: Headers;
}

/** Staff accounts for a test; a low scrypt cost keeps the suite fast (it travels inside the hash). */
export async function createStaff(users: StaffStore, accounts: ReadonlyArray<[email: string, roles: Role[]]>): Promise<Map<string, string>> {
  const hash = await hashPassword(PASSWORD, 2 ** 12);
  const ids = new Map<string, string>();
  for (const [email, roles] of accounts) ids.set(email, (await users.create({ email, name: email.split('@')[0] ?? email, passwordHash: hash, roles }, new Date()))._id);
  return ids;
}

/** A browser-like client: keeps cookies, sends the CSRF token it was given. */
export function staffClient(baseUrl: () => string) {
  const jar = new Map<string, string>();
  let csrf = '';
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<StaffReply> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = (pair ?? '').split('=');
      if (name) jar.set(name, value ?? '');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json: json as StaffReply['json'], text, headers: res.headers };
  };
  return {
    jar,
    call,
    csrf: () => csrf,
    async signIn(email: string, password = PASSWORD) {
      // Before login, the CSRF token is the one the login page set as a cookie (double submit).
      await call('GET', '/console/login');
      csrf = jar.get('sl_csrf') ?? '';
      const res = await call('POST', '/api/v1/auth/login', { email, password });
      if (res.status === 200) csrf = String(res.json.csrfToken);
      return res;
    },
    setCsrf: (token: string) => (csrf = token),
  };
}
