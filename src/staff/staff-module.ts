import { resolve } from 'node:path';
import { Router } from 'express';
import helmet from 'helmet';
import type { SafelineModule } from '../safeline';
import { loadTexts } from '../texts/texts';
import { allow, authenticate } from './access';
import { createApiRegistry } from './api-registry';
import { createAuditLog } from './audit-log';
import { consolePages } from './console-pages';
import { createLoginThrottle } from './login-throttle';
import { registerStaffApi } from './staff-api';
import { createStaffSessions } from './staff-sessions';
import { createStaffStore } from './staff-store';

/** Staff accounts, sign-in, roles, the audit log, /api/v1 and the console shell. */
export const staffModule: SafelineModule = {
  name: 'staff',
  routers(infra) {
    const { config } = infra;
    const users = createStaffStore(infra.mongo.connection);
    const sessions = createStaffSessions(infra.redis.client, { prefix: config.queuePrefix, ttlSeconds: config.staff.sessionTtlSeconds });
    const throttle = createLoginThrottle(infra.redis.client, { prefix: config.queuePrefix, limits: config.staff.loginLimits });
    const audit = createAuditLog(infra.mongo.connection);
    const deps = { users, sessions, throttle, audit, sessionTtlSeconds: config.staff.sessionTtlSeconds, now: () => new Date() };

    const api = createApiRegistry();
    registerStaffApi(api, deps);

    const front = Router();
    front.use(['/api', '/console'], helmet(), authenticate({ sessions, users }));
    front.get('/api/docs', allow({ public: true }), (_req, res) => {
      res.json(api.openapi());
    });
    return [front, api.router, consolePages({ ...deps, texts: loadTexts(resolve(config.ussd.templatesDir)) })];
  },
};
