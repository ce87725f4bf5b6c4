import type { KannelReading } from './kannel-readiness';
import type { SmsRoute } from './route-table';

/** Whether a route's operator bind is up, from a reading a few seconds old at most. */
export interface RouteBinds {
  routeOnline(route: SmsRoute): Promise<boolean>;
}

/**
 * A Kannel route is offline when status.txt shows its smsc in any state but online (re-connecting, dead...): Kannel
 * would still take its messages ("3: Queued for later delivery") and hold them until the bind is back. Any other
 * route, and a Kannel route while status.txt cannot be read, counts as online: the send's own answer decides then
 * (bearerbox down refuses sendsms, which is transient), so a broken admin port never holds every campaign.
 */
export function kannelRouteBinds(read: (() => Promise<KannelReading>) | undefined): RouteBinds {
  return {
    async routeOnline(route) {
      if (!read || route.gateway !== 'kannel' || !route.smsc) return true;
      const reading = await read();
      if ('unreadable' in reading || !reading.status.recognised) return true;
      const bind = reading.status.smscs.find((smsc) => smsc.id === route.smsc);
      return !bind || bind.state === 'online';
    },
  };
}
