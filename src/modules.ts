import type { SafelineModule } from './safeline';
import { staffModule } from './staff/staff-module';
import { ussdModule } from './ussd/ussd-module';

/** The rooms that plug into the api and worker roles. Each capability adds its module here. */
export const modules: ReadonlyArray<SafelineModule> = [ussdModule, staffModule];
