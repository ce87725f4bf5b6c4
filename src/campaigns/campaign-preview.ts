import { analyzeText, toAsciiSpelling } from '../shared/sms-encoding';

export interface TextFigures {
  text: string;
  characters: number;
  encoding: 'GSM-7' | 'UCS-2';
  /** Characters that forced UCS-2, so the writer can see what to change. */
  nonGsmCharacters: string[];
  parts: number;
  /** Estimated cost in XOF for every recipient of this language. */
  cost: number;
}

export interface LanguagePreview extends TextFigures {
  language: string;
  recipients: number;
  /** The same text in plain ASCII letters, for languages flagged for it: cheaper, harder to read. */
  ascii?: TextFigures;
}

function figures(text: string, recipients: number, pricePerPart: number): TextFigures {
  const analysis = analyzeText(text);
  return { text, characters: [...text].length, encoding: analysis.encoding, nonGsmCharacters: [...analysis.nonGsmCharacters], parts: analysis.parts, cost: analysis.parts * pricePerPart * recipients };
}

/** Pure: what each language's message will be and cost, before anything is sent. */
export function previewCampaign(input: {
  texts: Record<string, string>;
  recipientsByLanguage: Record<string, number>;
  asciiOption: readonly string[];
  pricePerPart: number;
}): { languages: LanguagePreview[]; recipients: number; cost: number } {
  const languages = Object.entries(input.texts)
    .filter(([, text]) => text.trim() !== '')
    .map(([language, text]) => {
      const recipients = input.recipientsByLanguage[language] ?? 0;
      const base = figures(text, recipients, input.pricePerPart);
      const ascii = input.asciiOption.includes(language) && base.encoding === 'UCS-2' ? figures(toAsciiSpelling(text), recipients, input.pricePerPart) : undefined;
      return { language, recipients, ...base, ...(ascii ? { ascii } : {}) };
    });
  return { languages, recipients: languages.reduce((sum, l) => sum + l.recipients, 0), cost: languages.reduce((sum, l) => sum + l.cost, 0) };
}
