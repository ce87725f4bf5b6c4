import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema, parseConfig } from '../../src/config/config';
import { generateSecrets } from '../../src/config/generated-secrets';
import { kannelInboundUrl } from '../../src/dev-services/kannel';

const root = join(__dirname, '../..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const knownVariables = new Set(Object.keys(configSchema.shape));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  volumes?: string[];
  restart?: string;
}

/** Values as compose resolves them: ${X:-default} is .env's X or the default, ${SECRET:?message} must come from .env. */
function resolveCompose(environment: Record<string, string>, dotEnv: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      String(value)
        .replace(/\$\{([A-Z_]+):-([^}]*)\}/g, (_, variable: string, fallback: string) => dotEnv[variable] ?? fallback)
        .replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, variable: string) => dotEnv[variable] ?? ''),
    ]),
  );
}

/** Kannel's templates under deploy/kannel/, and the ${NAME}s they use outside comments (what kannel-box renders). */
const kannelTemplates = [
  'deploy/kannel/kannel.conf',
  ...readdirSync(join(root, 'deploy/kannel/smsc')).map((file) => `deploy/kannel/smsc/${file}`),
];
const placeholdersOf = (file: string): string[] =>
  read(file)
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .flatMap((line) => [...line.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((match) => match[1] ?? ''));
/** A setting's value (its first occurrence), without quotes. */
const setting = (file: string, name: string): string | undefined => new RegExp(`^${name} = "?([^"\\n]*)"?$`, 'm').exec(read(file))?.[1];

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const kannelVariables = Object.keys(compose.services.kannel?.environment ?? {});
  const dotEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ ...generateSecrets(), ...extra });

  it('runs api and worker from this image beside mongo:7 and redis:7, and Kannel\'s two boxes on the kannel profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'kannel', 'kannel-smsbox', 'mongo', 'redis', 'worker']);
    expect(compose.services.mongo?.image).toBe('mongo:7');
    expect(compose.services.redis?.image).toBe('redis:7');
    expect(compose.services.api?.command).toEqual(['node', 'dist/main.js', 'api']);
    expect(compose.services.worker?.command).toEqual(['node', 'dist/main.js', 'worker']);
    for (const role of ['api', 'worker']) {
      expect(compose.services[role]?.depends_on).toEqual({ mongo: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    }
    // Off unless asked for (COMPOSE_PROFILES=kannel): an emulator or Africa's Talking deployment runs no Kannel.
    for (const [name, box] of [['kannel', 'bearerbox'], ['kannel-smsbox', 'smsbox']] as const) {
      expect(compose.services[name]).toMatchObject({
        build: './deploy/kannel', image: 'safeline-kannel:local', profiles: ['kannel'], command: [box],
      });
      // Kannel 1.4.5's smsbox stops when bearerbox stops cleanly: the restart policy is its supervisor.
      expect(compose.services[name]?.restart).toBe('unless-stopped');
    }
    expect(compose.services.kannel?.volumes).toEqual(['kannel-store:/var/spool/kannel']);
    expect(setting('deploy/kannel/kannel.conf', 'store-location')).toBe('/var/spool/kannel/kannel.store');
  });

  it.each(['api', 'worker'])('gives %s only variables safeline knows, forming a valid configuration', (role) => {
    const environment = compose.services[role]?.environment ?? {};
    const unknown = Object.keys(environment).filter((name) => !knownVariables.has(name));
    expect(unknown).toEqual([]);
    const resolved = resolveCompose(environment, dotEnv());
    expect(Object.values(resolved).join()).not.toContain('${');
    const config = parseConfig(resolved);
    expect(config.role).toBe(role);
    expect(config.mongodbUri).toBe('mongodb://mongo:27017/safeline');
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.smsGateway.kind).toBe('emulator');
  });

  it.each(['api', 'worker'])('gives %s, with SMS_GATEWAY=kannel, the kannel services\' URLs at the ports kannel.conf opens', (role) => {
    const passwords = { SMS_GATEWAY: 'kannel', KANNEL_PASSWORD: 'sendsms-secret', KANNEL_ADMIN_PASSWORD: 'status-secret' };
    const config = parseConfig(resolveCompose(compose.services[role]?.environment ?? {}, dotEnv(passwords)));
    const kannel = config.gatewayAccounts.kannel;
    expect(kannel).toMatchObject({ username: 'safeline', password: 'sendsms-secret', adminPassword: 'status-secret' });
    const sendsms = new URL(kannel?.sendsmsUrl ?? '');
    const sendsmsPort = setting('deploy/kannel/kannel.conf', 'sendsms-port');
    expect([sendsms.hostname, sendsms.port, sendsms.pathname]).toEqual(['kannel-smsbox', sendsmsPort, '/cgi-bin/sendsms']);
    const admin = new URL(kannel?.adminUrl ?? '');
    expect([admin.hostname, admin.port]).toEqual(['kannel', setting('deploy/kannel/kannel.conf', 'admin-port')]);
    // smsbox finds bearerbox by its service name; Kannel calls the api service back, at the port it listens on.
    expect(setting('deploy/kannel/kannel.conf', 'bearerbox-host')).toBe('kannel');
    expect(setting('deploy/kannel/kannel.conf', 'bearerbox-port')).toBe(setting('deploy/kannel/kannel.conf', 'smsbox-port'));
    expect(kannel?.callbackBaseUrl).toBe(`http://api:${compose.services.api?.environment?.PORT ?? ''}`);
    const getUrl = kannelInboundUrl(kannel?.callbackBaseUrl ?? '', 'TOKEN').replace('token=TOKEN', 'token=${SMS_CALLBACK_TOKEN}');
    expect(setting('deploy/kannel/kannel.conf', 'get-url')).toBe(getUrl);
    expect(config.routes.map((route) => route.smsc)).toEqual(['orange']);
  });

  it('with the example routes file, has an smsc group for each Kannel route, its allowed-smsc-id its own id', () => {
    expect(compose.services.api?.volumes).toEqual(['./config:/app/config:ro']);
    const environment = { ...compose.services.worker?.environment, SMS_ROUTES_FILE: join(root, 'config/routes.example.yaml') };
    const passwords = { SMS_GATEWAY: 'kannel', KANNEL_PASSWORD: 'x', KANNEL_ADMIN_PASSWORD: 'y' };
    const config = parseConfig(resolveCompose(environment, dotEnv(passwords)));
    const smscs = config.routes.flatMap((route) => (route.gateway === 'kannel' ? [route.smsc ?? ''] : []));
    expect(smscs).toEqual(['orange', 'malitel']);
    for (const smsc of smscs) {
      expect(setting(`deploy/kannel/smsc/${smsc}.conf`, 'smsc-id')).toBe(smsc);
      expect(setting(`deploy/kannel/smsc/${smsc}.conf`, 'allowed-smsc-id')).toBe(smsc);
    }
  });

  it('gives Kannel\'s boxes exactly the variables its templates use, safeline\'s with the same values', () => {
    const used = [...new Set(kannelTemplates.flatMap(placeholdersOf))].sort();
    expect([...kannelVariables].sort()).toEqual(used);
    expect(compose.services['kannel-smsbox']?.environment).toEqual(compose.services.kannel?.environment);
    const shared = kannelVariables.filter((name) => knownVariables.has(name));
    expect(shared.sort()).toEqual(['KANNEL_ADMIN_PASSWORD', 'KANNEL_PASSWORD', 'KANNEL_USERNAME', 'SMS_CALLBACK_TOKEN']);
    for (const name of shared) expect(compose.services.kannel?.environment?.[name]).toBe(compose.services.api?.environment?.[name]);
  });
});

describe('deploy/kannel/Dockerfile', () => {
  const dockerfile = read('deploy/kannel/Dockerfile');

  it('installs Debian bookworm\'s kannel (1.4.5, as the tests run) and runs a box as the package\'s unprivileged user', () => {
    expect(dockerfile).toMatch(/^FROM debian:bookworm-slim$/m);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends kannel gettext-base/);
    expect(dockerfile).toMatch(/^USER kannel$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/kannel-box"\]$/m);
    expect(dockerfile).toMatch(/^COPY --chmod=755 kannel-box\.sh \/usr\/local\/bin\/kannel-box$/m);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  // Without a stated limit V8 takes a quarter of the host's memory and lets the heap grow to 4 times
  // what is live during a long campaign; npm start and bench:campaign run with the same limit.
  it('runs node with a stated heap limit that fits a 512 MB container, as npm start does', () => {
    const limit = /^ENV NODE_OPTIONS="--max-old-space-size=(\d+)"$/m.exec(dockerfile)?.[1];
    expect(Number(limit)).toBeGreaterThanOrEqual(256);
    expect(Number(limit)).toBeLessThanOrEqual(400);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start).toBe(`node --max-old-space-size=${limit ?? ''} dist/main.js`);
  });

  it('is multi-stage on Node 20 slim, production dependencies only, as a non-root user, with a health check', () => {
    expect(dockerfile.match(/^FROM node:20-slim AS \w+$/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });
});

/** What .env holds for compose beyond safeline's configuration: Kannel's operator accounts. */
const kannelOnlyVariables = (): string[] => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  return Object.keys(compose.services.kannel?.environment ?? {}).filter((name) => !knownVariables.has(name));
};

describe('.env.example', () => {
  it('documents every variable the configuration reads and Kannel\'s boxes take, and no other', () => {
    const documented = read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => line.split('=')[0]);
    expect([...documented].sort()).toEqual([...knownVariables, ...kannelOnlyVariables()].sort());
  });

  it('is itself a valid configuration', () => {
    const env = Object.fromEntries(
      read('.env.example')
        .split('\n')
        .filter((line) => /^[A-Z]/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(() => parseConfig(env)).not.toThrow();
  });
});

describe('README.md', () => {
  it('has every variable in its configuration table, and Kannel\'s boxes\' in the operator section', () => {
    const readme = read('README.md');
    const missing = [...knownVariables].filter((name) => !readme.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
    const operators = readme.slice(readme.indexOf('### Connect an operator\'s SMPP account'));
    expect(kannelOnlyVariables().filter((name) => !operators.includes(`\`${name}\``))).toEqual([]);
  });
});
