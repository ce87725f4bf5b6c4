import { spawnSync } from 'node:child_process';
import mongoose from 'mongoose';
import { verifyPassword } from '../../src/staff/passwords';
import { createStaffStore } from '../../src/staff/staff-store';
import { testServices, uniqueName, withDatabase } from '../support/test-env';

describe('npm run staff:create', () => {
  const uri = withDatabase(testServices().mongodbUri, uniqueName('staffcli'));
  const connection = mongoose.createConnection(uri);
  afterAll(() => connection.close());
  const run = (args: string[], password?: string) =>
    spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/staff-create.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MONGODB_URI: uri, ...(password ? { STAFF_PASSWORD: password } : {}) },
      input: '',
      timeout: 60_000,
    });

  it('creates a user with the password from STAFF_PASSWORD, hashed', async () => {
    const result = run(['--email', 'Manager@Safeline.test', '--role', 'campaign_manager,partner_viewer', '--name', 'Awa'], 'a long enough password');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^created manager@safeline\.test \(campaign_manager, partner_viewer\), id [0-9a-f-]{36}\n$/);
    const user = await createStaffStore(connection).findForLogin('manager@safeline.test');
    expect(user).toMatchObject({ name: 'Awa', roles: ['campaign_manager', 'partner_viewer'], disabled: false });
    expect(user?.passwordHash).toMatch(/^scrypt\$32768\$8\$3\$/);
    expect(await verifyPassword('a long enough password', user?.passwordHash ?? '')).toBe(true);
  });

  it('refuses a duplicate email, an unknown role and a short password', () => {
    expect(run(['--email', 'manager@safeline.test', '--role', 'admin'], 'a long enough password')).toMatchObject({ status: 1, stderr: expect.stringContaining('already exists') as unknown });
    expect(run(['--email', 'x@safeline.test', '--role', 'boss'], 'a long enough password')).toMatchObject({ status: 2, stderr: expect.stringContaining('usage:') as unknown });
    expect(run(['--email', 'y@safeline.test', '--role', 'admin'], 'short')).toMatchObject({ status: 2, stderr: expect.stringContaining('12 characters') as unknown });
  });
});
