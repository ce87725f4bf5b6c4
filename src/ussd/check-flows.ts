import type { FlowProblem, FlowSet } from '../flow-engine/flow';
import { NODE_TYPES } from '../flow-engine/registry';
import type { NodeEnv, Screen } from '../flow-engine/types';
import type { Texts } from '../texts/texts';
import { renderScreen, type PagingKeys, type ScreenLimits } from './render-screen';

/** Keys the ussd room itself shows, on top of those the flows name. */
export const SYSTEM_KEYS = [
  'common.invalid_option',
  'common.invalid_input',
  'common.too_many_errors',
  'common.more',
  'common.back',
  'common.home',
  'common.apology',
  'common.resume_question',
  'common.yes',
  'common.no',
] as const;

/** Values shown in place of variables when screens are rendered for the check. */
const SAMPLE_VARS: Readonly<Record<string, string>> = { ref: 'K7M2QX', language: 'fr', score: '4' };

/** A USSD channel's screen budget: what one screen may hold once the gateway has carried it. */
export interface ChannelLimits {
  readonly channel: string;
  readonly limits: ScreenLimits;
}

export interface ScreenRow {
  readonly channel: string;
  readonly flow: string;
  readonly node: string;
  readonly language: string;
  readonly variant: 'screen' | 'refused input';
  readonly page: number;
  readonly pages: number;
  readonly length: number;
  readonly encoding: string;
  readonly limit: number;
  readonly ok: boolean;
}

export const AT_CHANNEL = 'africastalking';

/** Every channel the configuration knows, AT's first (its limits are the historical USSD_SCREEN_LIMIT_*). */
export function channelLimitsOf(ussd: { limits: ScreenLimits; kannel: { limits: ScreenLimits } }): ChannelLimits[] {
  return [
    { channel: AT_CHANNEL, limits: ussd.limits },
    { channel: 'kannel', limits: ussd.kannel.limits },
  ];
}

/**
 * checkScreens for each channel's limits: every screen is rendered (and paginated) as that channel
 * sends it. A problem found the same way on several channels is reported once.
 */
export function checkChannels(
  set: FlowSet,
  texts: Texts,
  channels: readonly ChannelLimits[],
  keys: PagingKeys,
): { problems: FlowProblem[]; rows: ScreenRow[] } {
  const seen = new Set<string>();
  const problems: FlowProblem[] = [];
  const rows: ScreenRow[] = [];
  for (const { channel, limits } of channels) {
    const checked = checkScreens(set, texts, limits, keys, channel);
    rows.push(...checked.rows);
    for (const problem of checked.problems) {
      const key = JSON.stringify(problem);
      if (!seen.has(key)) problems.push(problem);
      seen.add(key);
    }
  }
  return { problems, rows };
}

/** Missing translations and screens that do not fit, for every node in every enabled language. */
export function checkScreens(
  set: FlowSet,
  texts: Texts,
  limits: ScreenLimits,
  keys: PagingKeys,
  channel = AT_CHANNEL,
): { problems: FlowProblem[]; rows: ScreenRow[] } {
  // AT's messages read as they always did; another channel's name the channel.
  const where = channel === AT_CHANNEL ? '' : ` on the ${channel} channel`;
  const problems: FlowProblem[] = [];
  const rows: ScreenRow[] = [];
  for (const { code } of texts.languages) {
    for (const key of SYSTEM_KEYS) {
      if (!texts.has(code, key)) {
        problems.push({ file: `templates/${code}`, message: `missing text "${key}" (used by the USSD channel itself)` });
      }
    }
  }
  for (const flow of set.flows.values()) {
    for (const node of flow.nodes.values()) {
      const type = NODE_TYPES.get(node.type);
      if (!type) continue;
      for (const { code } of texts.languages) {
        for (const key of type.textKeys(node)) {
          if (!texts.has(code, key)) {
            problems.push({ file: `templates/${code}`, flow: flow.id, node: node.id, message: `missing text "${key}" in ${code}` });
          }
        }
      }
      for (const message of type.languageProblems?.(node, texts.languages.map(({ code }) => code)) ?? []) {
        problems.push({ file: flow.file, flow: flow.id, node: node.id, message });
      }
      const context = { sessionId: 'check', newReference: () => 'ZZZZZZ' };
      const env: NodeEnv = { vars: SAMPLE_VARS, context, position: { flow: flow.id, node: node.id } };
      let outcome;
      try {
        outcome = type.enter(node, env);
      } catch {
        continue; // Actions with sample variables may refuse; they show no screen anyway.
      }
      if (outcome.kind !== 'screen') continue;
      const variants: Array<[ScreenRow['variant'], Screen]> = [['screen', outcome.screen]];
      if (type.input) {
        const refused = type.input(node, '\u0000', env);
        if (refused.kind === 'invalid') variants.push(['refused input', { ...outcome.screen, notice: refused.notice }]);
      }
      for (const { code } of texts.languages) {
        for (const [variant, screen] of variants) {
          const rendered = renderScreen(screen, texts, code, limits, keys);
          rendered.pages.forEach((page, index) => {
            const limit = page.encoding === 'GSM-7' ? limits.gsm7 : limits.ucs2;
            const ok = page.length <= limit;
            const { length, encoding } = page;
            rows.push({
              channel, flow: flow.id, node: node.id, language: code, variant,
              page: index + 1, pages: rendered.pages.length, length, encoding, limit, ok,
            });
            if (!ok) {
              const message =
                `${code} ${variant} page ${index + 1}: ${length} characters of ${encoding}, over the limit of ${limit}${where}`;
              problems.push({ file: flow.file, flow: flow.id, node: node.id, message });
            }
          });
        }
      }
    }
  }
  return { problems, rows };
}
