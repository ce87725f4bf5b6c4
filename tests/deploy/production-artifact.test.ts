import { spawnSync } from 'node:child_process';
import { PASSWORD, staffClient } from '../support/staff-client';
import { postUssd } from '../support/ussd-client';
import { productionArtifact, startArtifact, type StartedArtifact } from '../support/production-artifact';
import { testEnvironment } from '../support/test-env';

/**
 * What the Dockerfile's runtime stage runs, done by hand: `npm run build`, dist, flows, templates
 * and the package files in an empty folder, `npm ci --omit=dev`, `node dist/main.js`. A runtime
 * import of a devDependency makes this process die at start.
 */
describe('the production artifact', () => {
  const env = testEnvironment({}, 'artifact');
  let app: StartedArtifact | undefined;

  beforeAll(async () => {
    app = await startArtifact('all', env);
  }, 240_000);

  afterAll(() => {
    if (app?.child.exitCode === null) app.child.kill('SIGKILL');
  });

  it('becomes ready, answers USSD, SMS callbacks and the console, and exits 0 on SIGTERM', async () => {
    if (!app) throw new Error('not started');
    let ready = 0;
    for (const deadline = Date.now() + 30_000; ready !== 200 && Date.now() < deadline; ) {
      ready = (await fetch(`${app.url}/readyz`)).status;
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready).toBe(200);

    const hop = await postUssd(app.url, String(env.USSD_CALLBACK_TOKEN), { sessionId: 'artifact-1', phoneNumber: '+22370000001', text: '' });
    expect(hop.status).toBe(200);
    expect(hop.body).toMatch(/^CON /);

    const report = await fetch(`${app.url}/sms/delivery?token=${encodeURIComponent(String(env.SMS_CALLBACK_TOKEN))}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id: 'ATXid_artifact', status: 'Success', phoneNumber: '+22370000001', networkCode: '61002' }),
    });
    expect(report.status).toBe(200);

    const login = await fetch(`${app.url}/console/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('<form');

    // An operator's first account, made inside the image (no swc there), can sign in.
    const cwd = await productionArtifact();
    const created = spawnSync(process.execPath, ['dist/cli/staff-create.js', '--email', 'first-admin@safeline.test', '--role', 'admin'], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MONGODB_URI: String(env.MONGODB_URI), STAFF_PASSWORD: PASSWORD },
      input: '',
    });
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const admin = staffClient(() => app?.url ?? '');
    expect((await admin.signIn('first-admin@safeline.test')).status).toBe(200);

    // A development tool in the image says what it needs instead of a stack trace.
    const graph = spawnSync(process.execPath, ['dist/cli/flows-graph.js'], { cwd, encoding: 'utf8' });
    expect(graph.status).toBe(1);
    expect(graph.stderr).toContain('flows:graph needs the development dependencies');

    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('"msg":"stopped"');
  }, 60_000);
});
