import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { createEmulatorGateway } from '../../src/gateway/emulator-gateway';
import { createStaffStore } from '../../src/staff/staff-store';
import { createStaff, staffClient } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';

describe("the SMS emulator's page", () => {
  let running: RunningSafeline;
  const admin = staffClient(() => running.url);
  const manager = staffClient(() => running.url);

  beforeAll(async () => {
    running = await startSafeline(testConfig({ SMS_GATEWAY: 'emulator' }), captureLogger('warn').logger, modules);
    await running.infra.mongo.opened;
    await createStaff(createStaffStore(running.infra.mongo.connection), [['admin@safeline.test', ['admin']], ['manager@safeline.test', ['campaign_manager']]]);
    expect((await admin.signIn('admin@safeline.test')).status).toBe(200);
    expect((await manager.signIn('manager@safeline.test')).status).toBe(200);
    const emulator = createEmulatorGateway(running.infra.mongo.connection, createPhoneProtection(running.infra.config.secrets));
    await emulator.send({ to: ['+22370000101'], text: 'Campagne: parlez-en a votre famille.', purpose: 'campaign' });
    await emulator.send({ to: ['+22370000102'], text: '[TEST] Campagne de test', purpose: 'campaign.test' });
    await emulator.send({ to: ['+22370000103'], text: 'ALERTE permanence: K7Q2XD urgent Kayes', purpose: 'hotline.alert' });
    await emulator.send({ to: ['+22370000104'], text: 'Votre demande K7Q2XD est notee.', purpose: 'hotline.confirmation' });
    await emulator.send({ to: ['+22370000105'], text: 'Message sans but connu' });
  }, 60_000);
  afterAll(() => running.stop());

  it('shows a campaign manager the campaign messages only, and says why', async () => {
    for (const path of ['/console/sms-emulator', '/console/sms-emulator/rows']) {
      const page = await manager.call('GET', path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Campagne: parlez-en');
      expect(page.text).toContain('[TEST] Campagne de test');
      expect(page.text).not.toContain('K7Q2XD');
      expect(page.text).not.toContain('sans but');
      expect(page.text).not.toContain('+22370000101');
    }
    expect((await manager.call('GET', '/console/sms-emulator')).text).toMatch(/admins|administrateurs/);
  });

  it('shows an admin every message, numbers masked', async () => {
    const rows = await admin.call('GET', '/console/sms-emulator/rows');
    expect(rows.status).toBe(200);
    for (const text of ['Campagne: parlez-en', 'ALERTE permanence: K7Q2XD', 'Votre demande K7Q2XD', 'sans but']) expect(rows.text).toContain(text);
    expect(rows.text).toContain('+223******03');
    expect(rows.text).not.toContain('+22370000103');
  });
});
