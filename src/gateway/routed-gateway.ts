import { GatewayError, type OutgoingSms, type RecipientResult, type SmsGateway } from './sms-gateway';
import { routeFor, type SmsRoute } from './route-table';

/** Every route's gateway, and one gateway for any number (single SMS: replies, alerts, test sends). */
export interface SmsRouting {
  readonly routes: readonly SmsRoute[];
  /** The gateway of the named route; undefined for a name the routes no longer have. */
  gatewayOf(route: string): SmsGateway | undefined;
  /** Sends each number over its own route's gateway. */
  readonly any: SmsGateway;
}

const NO_ROUTE = 'No SMS route covers this number';

/**
 * Splits a send by route, one call per route's gateway, and puts the answers back in the order asked.
 * With one route it is that route's gateway itself. A route whose call fails as a whole while another's
 * accepted someone answers transient for its recipients: an accepted recipient is never hidden behind an error.
 */
export function createSmsRouting(routes: readonly SmsRoute[], build: (route: SmsRoute) => SmsGateway): SmsRouting {
  const gateways = new Map(routes.map((route) => [route.name, build(route)]));
  const only = routes.length === 1 ? gateways.get(routes[0]?.name ?? '') : undefined;
  const any: SmsGateway = only ?? {
    name: 'routed',
    async send(batch: OutgoingSms): Promise<RecipientResult[]> {
      const answers = new Array<RecipientResult>(batch.to.length);
      const groups = new Map<string, number[]>();
      batch.to.forEach((to, i) => {
        const route = routeFor(routes, to);
        if (!route) answers[i] = { to, outcome: 'permanent', statusCode: 0, status: NO_ROUTE };
        else groups.set(route.name, [...(groups.get(route.name) ?? []), i]);
      });
      const failures: unknown[] = [];
      for (const [name, indexes] of groups) {
        const to = indexes.map((i) => batch.to[i] ?? '');
        try {
          const results = await (gateways.get(name) as SmsGateway).send({ ...batch, to });
          indexes.forEach(
            (i, k) => (answers[i] = results[k] ?? { to: to[k] ?? '', outcome: 'transient', statusCode: 0, status: 'no answer' }),
          );
        } catch (err) {
          failures.push(err);
          indexes.forEach((i, k) => (answers[i] = {
            to: to[k] ?? '', outcome: 'transient', statusCode: 0, status: err instanceof Error ? err.message : 'gateway error',
          }));
        }
      }
      if (failures.length > 0 && !answers.some((answer) => answer.outcome === 'accepted')) {
        throw failures[0] instanceof GatewayError ? failures[0] : new GatewayError('transient', String(failures[0]));
      }
      return answers;
    },
  };
  return { routes, gatewayOf: (route) => gateways.get(route), any };
}
