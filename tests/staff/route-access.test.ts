import { Router } from 'express';
import { allow } from '../../src/staff/access';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import type { AccessGuard } from '../../src/staff/access';
import { captureLogger, testConfig } from '../support/test-env';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: Array<{ handle: unknown }> };
  handle: { stack?: Layer[] };
}

/** Every route of a router and the routers mounted in it, with the handlers of each. */
function routes(router: { stack: Layer[] }): Array<{ path: string; methods: string[]; handlers: unknown[] }> {
  return router.stack.flatMap((layer) => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      return paths.map((path) => ({ path, methods: Object.keys(layer.route?.methods ?? {}), handlers: layer.route?.stack.map((inner) => inner.handle) ?? [] }));
    }
    return layer.handle.stack ? routes(layer.handle as { stack: Layer[] }) : [];
  });
}

describe('authorization', () => {
  let running: RunningSafeline;
  beforeAll(async () => {
    running = await startSafeline(testConfig(), captureLogger('warn').logger, []);
  });
  afterAll(() => running.stop());

  it('is declared on every console and API route of every module', () => {
    const all = modules.flatMap((module) => (module.routers?.(running.infra) ?? []).flatMap((router) => routes(router as unknown as { stack: Layer[] })));
    const guarded = all.filter((route) => route.path.startsWith('/console') || route.path.startsWith('/api'));
    expect(guarded.length).toBeGreaterThan(5);
    const undeclared = guarded.filter((route) => !route.handlers.some((handler) => typeof handler === 'function' && 'access' in handler && (handler as AccessGuard).access !== undefined));
    expect(undeclared.map((route) => `${route.methods.join(',')} ${route.path}`)).toEqual([]);
  });

  it('would notice a route without a declaration', () => {
    const router = Router();
    router.get('/api/v1/forgotten', (_req, res) => res.json({}));
    router.get('/api/v1/declared', allow({ roles: ['admin'] }), (_req, res) => res.json({}));
    const found = routes(router as unknown as { stack: Layer[] }).filter((route) => !route.handlers.some((handler) => typeof handler === 'function' && 'access' in handler));
    expect(found.map((route) => route.path)).toEqual(['/api/v1/forgotten']);
  });
});
