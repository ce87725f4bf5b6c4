import type { SmsRoute } from '../config/sms-routes';
import { analyzeText, toAsciiSpelling } from '../shared/sms-encoding';

export interface TextFigures {
  text: string;
  characters: number;
  encoding: 'GSM-7' | 'UCS-2';
  /** Characters that forced UCS-2, so the writer can see what to change. */
  nonGsmCharacters: string[];
  parts: number;
  /** Estimated cost in XOF for every recipient of this language, each at its route's price. */
  cost: number;
}

export interface LanguagePreview extends TextFigures {
  language: string;
  recipients: number;
  /** The same text in plain ASCII letters, for languages flagged for it: cheaper, harder to read. */
  ascii?: TextFigures;
}

/**
 * Where a group of the audience goes: a route; 'unknown' for subscribers stored before their number block was
 * kept (their route is found when the fan-out opens their number); 'none' for numbers no route covers (not sent).
 */
export type AudienceRoute = SmsRoute | 'unknown' | 'none';

/** One operator's share of the campaign, as written (not in ASCII spelling). */
export interface OperatorPreview {
  /** The route's name; '' for "operator not known yet", null for "no route". */
  route: string | null;
  operator: string;
  recipients: number;
  parts: number;
  /** XOF: parts x the route's price; "not known yet" at the dearest route's price (at most that), "no route" 0. */
  cost: number;
}

const figures = (text: string, recipients: number, pricePerRecipientPart: number): TextFigures => {
  const analysis = analyzeText(text);
  return {
    text,
    characters: [...text].length,
    encoding: analysis.encoding,
    nonGsmCharacters: [...analysis.nonGsmCharacters],
    parts: analysis.parts,
    cost: analysis.parts * pricePerRecipientPart,
  };
};

/** Pure: what each language's message will be and cost, and each operator's share, before anything is sent. */
export function previewCampaign(input: {
  texts: Record<string, string>;
  audience: ReadonlyArray<{ language: string; route: AudienceRoute; recipients: number }>;
  asciiOption: readonly string[];
  routes: readonly SmsRoute[];
}): { languages: LanguagePreview[]; operators: OperatorPreview[]; recipients: number; cost: number } {
  const dearest = Math.max(0, ...input.routes.map((route) => route.pricePerPart));
  const priceOf = (route: AudienceRoute): number => (route === 'none' ? 0 : route === 'unknown' ? dearest : route.pricePerPart);
  const texts = Object.entries(input.texts).filter(([, text]) => text.trim() !== '');
  const languages = texts.map(([language, text]) => {
    const groups = input.audience.filter((group) => group.language === language && group.route !== 'none');
    const recipients = groups.reduce((sum, group) => sum + group.recipients, 0);
    // Recipients x their route's price per part: the language's cost is this times its parts.
    const priced = groups.reduce((sum, group) => sum + group.recipients * priceOf(group.route), 0);
    const base = figures(text, recipients, priced);
    const ascii =
      input.asciiOption.includes(language) && base.encoding === 'UCS-2' ? figures(toAsciiSpelling(text), recipients, priced) : undefined;
    return { language, recipients, ...base, ...(ascii ? { ascii } : {}) };
  });
  const partsOf = new Map(languages.map((l) => [l.language, l.parts]));
  const operators = new Map<string, OperatorPreview>();
  for (const group of input.audience) {
    if (!partsOf.has(group.language)) continue;
    const key = group.route === 'none' ? '\u0000none' : group.route === 'unknown' ? '' : group.route.name;
    const entry = operators.get(key) ?? {
      route: group.route === 'none' ? null : group.route === 'unknown' ? '' : group.route.name,
      operator: group.route === 'none' ? 'no route' : group.route === 'unknown' ? 'operator not known yet' : group.route.operator,
      recipients: 0,
      parts: 0,
      cost: 0,
    };
    const parts = group.route === 'none' ? 0 : (partsOf.get(group.language) ?? 0) * group.recipients;
    entry.recipients += group.recipients;
    entry.parts += parts;
    entry.cost += parts * priceOf(group.route);
    operators.set(key, entry);
  }
  // In the routes file's order, then "not known yet", then "no route".
  const order = (o: OperatorPreview) =>
    o.route === null ? Infinity : o.route === '' ? input.routes.length : input.routes.findIndex((route) => route.name === o.route);
  return {
    languages,
    operators: [...operators.values()].sort((a, b) => order(a) - order(b)),
    recipients: languages.reduce((sum, l) => sum + l.recipients, 0),
    cost: languages.reduce((sum, l) => sum + l.cost, 0),
  };
}
