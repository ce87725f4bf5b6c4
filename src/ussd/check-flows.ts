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
const SAMPLE_VARS: Readonly<Record<string, string>> = { ref: 'K7M2QX', language: 'fr' };

export interface ScreenRow {
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

/** Missing translations and screens that do not fit, for every node in every enabled language. */
export function checkScreens(set: FlowSet, texts: Texts, limits: ScreenLimits, keys: PagingKeys): { problems: FlowProblem[]; rows: ScreenRow[] } {
  const problems: FlowProblem[] = [];
  const rows: ScreenRow[] = [];
  for (const { code } of texts.languages) {
    for (const key of SYSTEM_KEYS) {
      if (!texts.has(code, key)) problems.push({ file: `templates/${code}`, message: `missing text "${key}" (used by the USSD channel itself)` });
    }
  }
  for (const flow of set.flows.values()) {
    for (const node of flow.nodes.values()) {
      const type = NODE_TYPES.get(node.type);
      if (!type) continue;
      for (const { code } of texts.languages) {
        for (const key of type.textKeys(node)) {
          if (!texts.has(code, key)) problems.push({ file: `templates/${code}`, flow: flow.id, node: node.id, message: `missing text "${key}" in ${code}` });
        }
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
            rows.push({ flow: flow.id, node: node.id, language: code, variant, page: index + 1, pages: rendered.pages.length, length: page.length, encoding: page.encoding, limit, ok });
            if (!ok) {
              problems.push({ file: flow.file, flow: flow.id, node: node.id, message: `${code} ${variant} page ${index + 1}: ${page.length} characters of ${page.encoding}, over the limit of ${limit}` });
            }
          });
        }
      }
    }
  }
  return { problems, rows };
}
