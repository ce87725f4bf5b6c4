import type { SafelineModule } from './safeline';

/** The rooms that plug into the api and worker roles. Each capability adds its module here. */
export const modules: ReadonlyArray<SafelineModule> = [];
