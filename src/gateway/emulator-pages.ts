import { Router, type Response } from 'express';
import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { allow, staffOf } from '../staff/access';
import { LIVE_HEAD, escapeHtml as escape } from '../staff/console-shell';
import { staffSurfaceOf } from '../staff/staff-surface';
import { createEmulatorGateway } from './emulator-gateway';

/**
 * With the emulator, the console shows what "arrived": the last messages it took, numbers masked.
 * A campaign manager sees campaign messages only: hotline alerts and confirmations (a reference
 * code, an urgency, a region) are for admins.
 */
export function emulatorPages(infra: Infrastructure): Router {
  const router = Router();
  const { shell } = staffSurfaceOf(infra);
  const outbox = createEmulatorGateway(infra.mongo.connection, createPhoneProtection(infra.config.secrets));
  const roles = ['campaign_manager', 'admin'] as const;
  const campaignOnly = (res: Response): boolean => !staffOf(res)?.user.roles.includes('admin');
  const rows = async (res: Response): Promise<string> =>
    (await outbox.list(100, { campaignOnly: campaignOnly(res) })).map((m) => `<tr><td>${escape(m.at.toISOString().slice(0, 19).replace('T', ' '))}</td><td>${escape(m.toMasked)}</td><td>${escape(m.from)}</td><td>${m.parts}</td><td>${escape(m.text)}</td></tr>`).join('');
  router.get('/console/sms-emulator/rows', allow({ roles }), async (_req, res) => {
    res.type('html').set('cache-control', 'no-store').send(await rows(res));
  });
  router.get('/console/sms-emulator', allow({ roles }, { html: true }), async (req, res) => {
    const t = shell.t;
    shell.page(req, res, t(req, 'console.emulator.title'), `<h1>${t(req, 'console.emulator.title')}</h1><p>${t(req, 'console.emulator.help')}</p>${campaignOnly(res) ? `<p>${t(req, 'console.emulator.campaign_only')}</p>` : ''}
<table><thead><tr><th scope="col">${t(req, 'console.emulator.when')}</th><th scope="col">${t(req, 'console.emulator.to')}</th><th scope="col">${t(req, 'console.emulator.from')}</th><th scope="col">${t(req, 'console.campaigns.parts')}</th><th scope="col">${t(req, 'console.campaigns.text')}</th></tr></thead>
<tbody data-live-src="/console/sms-emulator/rows" data-live-every="3000">${await rows(res)}</tbody></table>`, staffOf(res), LIVE_HEAD(10));
  });
  router.use('/console', shell.forbidden);
  return router;
}
