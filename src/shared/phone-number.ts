import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

/**
 * A number as people write it ("70 12 34 56", "+223 70123456", "0022370123456") in E.164, or
 * undefined when it is not a valid number. Mali (ML) is the default region.
 */
export function toE164(raw: string, defaultRegion: 'ML' = 'ML'): string | undefined {
  const cleaned = raw.trim().replace(/^00/, '+');
  try {
    const parsed = parsePhoneNumberWithError(cleaned, defaultRegion);
    return parsed.isValid() ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}
