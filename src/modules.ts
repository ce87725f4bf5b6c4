import { campaignsModule } from './campaigns/campaigns-module';
import { gatewayModule } from './gateway/gateway-module';
import { hotlineModule } from './hotline/hotline-module';
import { quizCampaignsOf } from './campaigns/quiz-campaigns';
import { createResultsModule } from './results/results-module';
import { indicatorsModule } from './indicators/indicators-module';
import type { SafelineModule } from './safeline';
import { smsModule } from './sms/sms-module';
import { staffModule } from './staff/staff-module';
import { subscribersModule } from './subscribers/subscribers-module';
import { consolePhoneModule } from './ussd/console-phone/phone-module';
import { ussdModule } from './ussd/ussd-module';

/**
 * The rooms that plug into the api and worker roles, in mounting order: staff comes before the
 * rooms whose pages and API need to know who is signed in.
 */
export const modules: ReadonlyArray<SafelineModule> = [
  ussdModule, staffModule, gatewayModule, smsModule, hotlineModule, subscribersModule, campaignsModule, indicatorsModule,
  consolePhoneModule, createResultsModule(quizCampaignsOf),
];
