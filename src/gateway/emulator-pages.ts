import { Router, type Response } from 'express';
import type { Infrastructure } from '../safeline';
import { createPhoneProtection } from '../shared/phone-protection';
import { allow, staffOf } from '../staff/access';
import { LIVE_HEAD, escapeHtml as escape } from '../staff/console-shell';
import { staffSurfaceOf } from '../staff/staff-surface';
import { createEmulatorOutbox, type EmulatedMessage } from './emulator-gateway';

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
  const cell = (text: string): string => `<td>${escape(text)}</td>`;
  const row = (m: EmulatedMessage): string =>
    `<tr>${cell(m.at.toISOString().slice(0, 19).replace('T', ' '))}${cell(m.toMasked)}${cell(m.from)}` +
    `${operators ? cell(m.via ?? 'emulator') : ''}<td>${m.parts}</td>${cell(m.text)}</tr>`;
  const rows = async (res: Response): Promise<string> => (await outbox.list(100, { campaignOnly: campaignOnly(res) })).map(row).join('');
  router.get('/console/sms-emulator/rows', allow({ roles }), async (_req, res) => {
    res.type('html').set('cache-control', 'no-store').send(await rows(res));
  });
  router.get('/console/sms-emulator', allow({ roles }, { html: true }), async (req, res) => {
    const t = shell.t;
    const key = (name: string): string => `console.emulator.${operators ? `operators_${name}` : name}`;
    const heads = [
      t(req, 'console.emulator.when'), t(req, 'console.emulator.to'), t(req, 'console.emulator.from'),
      ...(operators ? [t(req, 'console.emulator.operator')] : []), t(req, 'console.campaigns.parts'), t(req, 'console.campaigns.text'),
    ];
    shell.page(req, res, t(req, key('title')), `<h1>${t(req, key('title'))}</h1><p>${t(req, key('help'))}</p>
${campaignOnly(res) ? `<p>${t(req, key('campaign_only'))}</p>` : ''}
<table><thead><tr>${heads.map((head) => `<th scope="col">${head}</th>`).join('')}</tr></thead>
<tbody data-live-src="/console/sms-emulator/rows" data-live-every="3000">${await rows(res)}</tbody></table>`, staffOf(res), LIVE_HEAD(10));
  });
  router.use('/console', shell.forbidden);
  return router;
}
