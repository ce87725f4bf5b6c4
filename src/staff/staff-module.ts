import { Router } from 'express';
import helmet from 'helmet';
import type { SafelineModule } from '../safeline';
import { allow, authenticate } from './access';
import { consolePages } from './console-pages';
import { createLoginDevices } from './login-devices';
import { createLoginThrottle } from './login-throttle';
import { dummyHash } from './passwords';
import { registerStaffApi } from './staff-api';
import { createStaffSessions } from './staff-sessions';
import { createStaffStore } from './staff-store';
import { staffSurfaceOf } from './staff-surface';

/**
 * Staff accounts, sign-in, roles, the audit log, /api/v1 and the console shell. It comes before
 * the rooms that serve staff: its middleware finds who is signed in for all of them.
 */
export const staffModule: SafelineModule = {
  name: 'staff',
  routers(infra) {
    const { config } = infra;
    const users = createStaffStore(infra.mongo.connection);
    const sessions = createStaffSessions(infra.redis.client, { prefix: config.queuePrefix, ttlSeconds: config.staff.sessionTtlSeconds });
    const throttle = createLoginThrottle(infra.redis.client, { prefix: config.queuePrefix, limits: config.staff.loginLimits });
    const { api, shell, audit } = staffSurfaceOf(infra);
    const devices = createLoginDevices(config.secrets.phoneHashKey);
    const deps = { users, sessions, throttle, devices, audit, sessionTtlSeconds: config.staff.sessionTtlSeconds, now: () => new Date() };
    registerStaffApi(api, deps);
    // Ready before the first sign-in, so that an unknown account costs the same time from the start.
    void dummyHash();

    const front = Router();
    front.use(['/api', '/console'], helmet(), authenticate({ sessions, users }));
    front.get('/api/docs', allow({ public: true }), (_req, res) => {
      res.json(api.openapi());
    });
    return [front, api.router, consolePages({ ...deps, shell })];
  },
};
