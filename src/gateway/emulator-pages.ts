import { Router, type Response } from 'express';
import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { allow, staffOf } from '../staff/access';
import { consoleForbidden } from '../staff/console-forbidden';
import { staffSurfaceOf } from '../staff/staff-surface';
import { renderFragment } from '../web/render';
import { createEmulatorOutbox } from './emulator-gateway';
import { emulatorPage, emulatorRows } from './emulator-view';

/**
 * With the emulator, the console shows what "arrived": the last messages it took, numbers masked.
 * A campaign manager sees campaign messages only: hotline alerts and confirmations (a reference
 * code, an urgency, a region) are for admins.
 * `operators`: what the simulated operators of `SMS_GATEWAY=kannel npm run dev` received through Kannel, with the
 * operator each went to. An operator cannot know what a message is for, so those are shown to admins only.
 */
export function emulatorPages(infra: Infrastructure, kind: 'emulator' | 'operators' = 'emulator'): Router {
  const router = Router();
  const { shell } = staffSurfaceOf(infra);
  const outbox = createEmulatorOutbox(infra.mongo.connection, createPhoneProtection(infra.config.secrets));
  const roles = ['campaign_manager', 'admin'] as const;
  const operators = kind === 'operators';
  const campaignOnly = (res: Response): boolean => !staffOf(res)?.user.roles.includes('admin');
  const rows = async (res: Response) => emulatorRows(await outbox.list(100, { campaignOnly: campaignOnly(res) }), operators);
  router.get('/console/sms-emulator/rows', allow({ roles }), async (_req, res) => {
    res.type('html').set('cache-control', 'no-store').send(renderFragment(await rows(res)));
  });
  router.get('/console/sms-emulator', allow({ roles }, { html: true }), async (req, res) => {
    const t = shell.t;
    const key = (name: string): string => `console.emulator.${operators ? `operators_${name}` : name}`;
    const heads = [
      t(req, 'console.emulator.when'), t(req, 'console.emulator.to'), t(req, 'console.emulator.from'),
      ...(operators ? [t(req, 'console.emulator.operator')] : []), t(req, 'console.campaigns.parts'), t(req, 'console.campaigns.text'),
    ];
    const notice = campaignOnly(res) ? t(req, key('campaign_only')) : undefined;
    const { body, head } = emulatorPage({ title: t(req, key('title')), help: t(req, key('help')), notice, heads, rows: await rows(res) });
    shell.page(req, res, t(req, key('title')), body, staffOf(res), head);
  });
  router.use('/console', consoleForbidden(shell));
  return router;
}
