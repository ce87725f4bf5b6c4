import { join } from 'node:path';
import { ConfigError, parseConfig, type Environment } from '../../src/config/config';
import { generateSecrets } from '../../src/config/generated-secrets';
import { routeFor } from '../../src/gateway/route-table';

const secrets = generateSecrets();
const fixture = (name: string) => join(__dirname, '..', 'fixtures', 'routes', `${name}.yaml`);
const accounts = {
  KANNEL_SENDSMS_URL: 'http://127.0.0.1:13013/cgi-bin/sendsms',
  KANNEL_USERNAME: 'safeline',
  KANNEL_PASSWORD: 'sendsms-secret',
  KANNEL_ADMIN_URL: 'http://127.0.0.1:13000',
  KANNEL_ADMIN_PASSWORD: 'status-secret',
  AT_USERNAME: 'mali',
  AT_API_KEY: 'at-key',
};
const parse = (env: Environment) => parseConfig({ ...secrets, ...env });
const problemOf = (name: string, env: Environment = accounts): string => {
  try {
    parse({ ...env, SMS_ROUTES_FILE: fixture(name) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variables).toEqual(expect.arrayContaining([expect.stringMatching(/^(SMS_ROUTES_FILE|KANNEL_|AT_)/)]));
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error(`${name} was accepted`);
};

it('without a routes file: one route for every number, from SMS_GATEWAY and its settings', () => {
  const config = parse({
    SMS_GATEWAY: 'kannel', ...accounts, KANNEL_SMSC: 'orange',
    SMS_MAX_PER_SECOND: '40', SMS_PRICE_PER_PART: '18', SMS_SENDER_ID: 'SAFELINE',
  });
  expect(config.routes).toEqual([
    {
      name: 'default', operator: 'every operator', prefixes: ['+'], gateway: 'kannel', smsc: 'orange',
      maxPerSecond: 40, pricePerPart: 18, senderId: 'SAFELINE',
    },
  ]);
  expect(parse({}).routes).toEqual([
    { name: 'default', operator: 'every operator', prefixes: ['+'], gateway: 'emulator', maxPerSecond: 100, pricePerPart: 20 },
  ]);
  expect(routeFor(parse({}).routes, '+22320212345')?.name).toBe('default');
});

it('reads a good file: every field, and the longest prefix wins', () => {
  const { routes } = parse({ ...accounts, SMS_ROUTES_FILE: fixture('two-operators') });
  expect(routes).toEqual([
    {
      name: 'orange', operator: 'Orange Mali', prefixes: ['+2237', '+22389'], gateway: 'kannel', smsc: 'orange',
      maxPerSecond: 20, pricePerPart: 20, senderId: 'SAFELINE',
    },
    { name: 'moov', operator: 'Moov Africa Malitel', prefixes: ['+2236'], gateway: 'africastalking', maxPerSecond: 5, pricePerPart: 25 },
    {
      name: 'orange-premium', operator: 'Orange Mali (premium range)', prefixes: ['+22379'], gateway: 'emulator',
      maxPerSecond: 1.5, pricePerPart: 30,
    },
  ]);
  expect(routeFor(routes, '+22370123456')?.name).toBe('orange');
  expect(routeFor(routes, '+22379123456')?.name).toBe('orange-premium');
  expect(routeFor(routes, '+22389123456')?.name).toBe('orange');
  expect(routeFor(routes, '+22366123456')?.name).toBe('moov');
  expect(routeFor(routes, '+22320212345')).toBeUndefined();
  // A block has its numbers' route.
  expect(routeFor(routes, '+22379')?.name).toBe('orange-premium');
});

it('ships an example for Mali that is itself valid', () => {
  const { routes } = parse({ ...accounts, SMS_ROUTES_FILE: join(__dirname, '..', '..', 'config', 'routes.example.yaml') });
  expect(routes.map((route) => route.operator)).toEqual(['Orange Mali', 'Moov Africa Malitel']);
});

it.each([
  ['unknown-gateway', /route "orange": unknown gateway "smpp" \(one of kannel, africastalking, emulator\)/],
  ['duplicate-prefix', /route "moov": prefix "\+2237" is also route "orange"'s/],
  ['kannel-without-smsc', /route "orange": a kannel route needs smsc/],
  ['zero-rate', /route "orange": max_per_second must be a number above 0.*route "orange": price_per_part must be a number above 0/],
  [
    'prefix-longer-than-block',
    /route "orange": prefix "\+223701" is longer than 6 characters: subscribers are counted by the first 6 characters/,
  ],
  ['shared-smsc', /route "orange-8": smsc "orange" is already route "orange"'s: give that route both prefixes/],
  ['misspelt-field', /route "orange": unknown field "prefix".*route "orange": prefixes must be a list/],
  ['not-a-list', /must have "routes:", a list of at least one route/],
  ['broken-yaml', /not valid YAML/],
  ['no-such-file', /SMS_ROUTES_FILE .*no-such-file\.yaml: cannot be read \(ENOENT\)/],
])('refuses %s, saying why', (name, message) => {
  expect(problemOf(name)).toMatch(message);
});

it('requires the accounts of the gateways the routes use, naming the route', () => {
  const { AT_API_KEY: _key, KANNEL_PASSWORD: _password, ...without } = accounts;
  const message = problemOf('two-operators', without);
  expect(message).toMatch(/KANNEL_PASSWORD is required: route "orange" of SMS_ROUTES_FILE uses kannel \(not set\)/);
  expect(message).toMatch(/AT_API_KEY is required: route "moov" of SMS_ROUTES_FILE uses africastalking/);
  // With a routes file, SMS_GATEWAY's own requirements (KANNEL_SMSC) no longer apply.
  expect(parse({ ...accounts, SMS_GATEWAY: 'kannel', SMS_ROUTES_FILE: fixture('two-operators') }).routes).toHaveLength(3);
});
