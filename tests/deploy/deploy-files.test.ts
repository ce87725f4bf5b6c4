import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema, parseConfig } from '../../src/config/config';
import { generateSecrets } from '../../src/config/generated-secrets';

const root = join(__dirname, '../..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const knownVariables = new Set(Object.keys(configSchema.shape));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };

  it('runs api and worker from this image beside mongo:7 and redis:7', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'mongo', 'redis', 'worker']);
    expect(compose.services.mongo?.image).toBe('mongo:7');
    expect(compose.services.redis?.image).toBe('redis:7');
    expect(compose.services.api?.command).toEqual(['node', 'dist/main.js', 'api']);
    expect(compose.services.worker?.command).toEqual(['node', 'dist/main.js', 'worker']);
    for (const role of ['api', 'worker']) {
      expect(compose.services[role]?.depends_on).toEqual({ mongo: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    }
  });

  it.each(['api', 'worker'])('gives %s only variables safeline knows, forming a valid configuration', (role) => {
    const environment = compose.services[role]?.environment ?? {};
    const unknown = Object.keys(environment).filter((name) => !knownVariables.has(name));
    expect(unknown).toEqual([]);
    // ${LOG_LEVEL:-info} takes its default; ${SECRET:?message} must come from .env, as a real one would.
    const fromDotEnv: Record<string, string> = generateSecrets();
    const resolved = Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [
        name,
        String(value)
          .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
          .replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_, variable: string) => fromDotEnv[variable] ?? ''),
      ]),
    );
    expect(Object.values(resolved).join()).not.toContain('${');
    const config = parseConfig(resolved);
    expect(config.role).toBe(role);
    expect(config.mongodbUri).toBe('mongodb://mongo:27017/safeline');
    expect(config.redisUrl).toBe('redis://redis:6379');
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

describe('.env.example', () => {
  it('documents every variable the configuration reads, and no other', () => {
    const documented = read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => line.split('=')[0]);
    expect([...documented].sort()).toEqual([...knownVariables].sort());
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
  it('has every variable in its configuration table', () => {
    const readme = read('README.md');
    const missing = [...knownVariables].filter((name) => !readme.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });
});
