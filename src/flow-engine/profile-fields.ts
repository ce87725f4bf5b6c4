/**
 * What a respondent's profile may hold, and the values each field takes. A profile question's categories must
 * be among these (flows:check says so), and the profile store keeps nothing else. Values are stored codes:
 * relabel them freely in templates/, change them only here (and in the flows that use them).
 */

/** The answer every profile question offers: nobody has to tell. */
export const PREFER_NOT_TO_SAY = 'prefer_not_to_say';

/** Mali's regions, as flows/report.yaml saves them (shared/reference/mali.md): the district and 19 regions. */
export const REGIONS = [
  'bamako', 'kayes', 'koulikoro', 'sikasso', 'segou', 'mopti', 'tombouctou', 'gao', 'kidal', 'menaka',
  'taoudenit', 'nioro', 'kita', 'dioila', 'nara', 'bougouni', 'koutiala', 'san', 'douentza', 'bandiagara',
] as const;

export const AGE_BANDS = ['under_18', '18_24', '25_34', '35_49', '50_plus'] as const;

export const SEXES = ['female', 'male'] as const;

export const PROFILE_FIELDS = {
  region: REGIONS,
  age_band: AGE_BANDS,
  sex: SEXES,
} as const satisfies Record<string, readonly string[]>;

export type ProfileField = keyof typeof PROFILE_FIELDS;

export const PROFILE_FIELD_NAMES = Object.keys(PROFILE_FIELDS) as [ProfileField, ...ProfileField[]];

/** True when `value` may be stored under `field`: one of its values, or "prefer not to say". */
export function isProfileValue(field: string, value: string): boolean {
  const values: readonly string[] | undefined = (PROFILE_FIELDS as Record<string, readonly string[]>)[field];
  return values !== undefined && (value === PREFER_NOT_TO_SAY || values.includes(value));
}
