import type { SafelineModule } from '../../safeline';
import { consolePhonePages } from './phone-pages';

/**
 * The console's phone (/console/phone): the residents' USSD flows dialled from the console, in test
 * sessions. Mounted after the staff module, whose middleware finds who is signed in and checks CSRF.
 */
export const consolePhoneModule: SafelineModule = {
  name: 'console-phone',
  routers: (infra) => [consolePhonePages(infra)],
};
