import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __safelineStops?: Array<() => Promise<void>> }).__safelineStops ?? [];
  for (const stop of stops.reverse()) await stop();
  const scratch = process.env.SAFELINE_TEST_SCRATCH;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
