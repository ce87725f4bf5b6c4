import { startFlow, step, type EngineOptions } from '../flow-engine/engine';
import type { FlowSet } from '../flow-engine/flow';
import type { FlowEvent, FlowState, Screen, StepContext, Vars } from '../flow-engine/types';
import type { Texts } from '../texts/texts';
import { renderScreen, type PagingKeys, type RenderedScreen, type ScreenLimits } from './render-screen';

/**
 * The USSD conversation over the flow engine: paging ("98" more, "0" back a page), the
 * "continue where you stopped?" offer, and rendering to CON/END text. Pure: no I/O.
 */
export interface ConversationState {
  readonly flow: FlowState;
  /** The screen on show, so a page can be rendered again without re-running the flow. */
  readonly screen: Screen;
  readonly page: number;
  /** Set while the caller is asked whether to resume an earlier, dropped session. */
  readonly resume?: { readonly flow: FlowState; readonly screen: Screen; readonly page: number };
}

export interface Reply {
  readonly end: boolean;
  readonly text: string;
}

export interface Turn {
  readonly state: ConversationState;
  readonly reply: Reply;
  readonly events: readonly FlowEvent[];
}

export interface ConversationDeps {
  readonly flows: FlowSet;
  readonly texts: Texts;
  readonly limits: ScreenLimits;
  readonly keys: PagingKeys;
  readonly maxWrongTries: number;
  /** renderScreen with these texts and limits; memoized, since screens repeat from caller to caller. */
  readonly render: (screen: Screen, language: string) => RenderedScreen;
}

/** Builds the conversation's dependencies, with a bounded cache of rendered screens. */
export function createConversationDeps(input: Omit<ConversationDeps, 'render'>, cacheSize = 5_000): ConversationDeps {
  const cache = new Map<string, RenderedScreen>();
  const render = (screen: Screen, language: string): RenderedScreen => {
    const key = `${language}\u0000${JSON.stringify(screen)}`;
    let rendered = cache.get(key);
    if (!rendered) {
      rendered = renderScreen(screen, input.texts, language, input.limits, input.keys);
      if (cache.size >= cacheSize) cache.clear();
      cache.set(key, rendered);
    }
    return rendered;
  };
  return { ...input, render };
}

const engineOptions = (deps: ConversationDeps): EngineOptions => ({
  navigation: { back: deps.keys.back, home: deps.keys.home },
  maxWrongTries: deps.maxWrongTries,
});

export const languageOf = (deps: ConversationDeps, vars: Vars): string =>
  vars.language && deps.texts.languages.some((language) => language.code === vars.language) ? vars.language : deps.texts.defaultLanguage;

function show(deps: ConversationDeps, state: ConversationState, events: readonly FlowEvent[]): Turn {
  const language = languageOf(deps, (state.resume ?? state).flow.vars);
  const rendered = deps.render(state.screen, language);
  const page = Math.min(state.page, rendered.pages.length - 1);
  const current = rendered.pages[page];
  const text = current?.text ?? '';
  return { state: { ...state, page }, events, reply: { end: current ? !current.continues : true, text } };
}

const resumeScreen: Screen = {
  end: false,
  body: [{ key: 'common.resume_question' }],
  options: [
    { number: 1, label: { key: 'common.yes' } },
    { number: 2, label: { key: 'common.no' } },
  ],
};

/**
 * The first request of a session: the entry flow (or `flowId`, a shortcut's), or the offer to resume a
 * dropped session.
 */
export function begin(deps: ConversationDeps, context: StepContext, vars: Vars, resumable?: ConversationState, flowId?: string): Turn {
  const started = startFlow(deps.flows, vars, context, flowId);
  const fresh: ConversationState = { flow: started.state, screen: started.screen, page: 0 };
  // Worth offering only if the dropped session had got further than where a new one starts.
  const further =
    resumable && (resumable.flow.position.flow !== fresh.flow.position.flow || resumable.flow.position.node !== fresh.flow.position.node);
  if (resumable && further && !resumable.flow.ended) {
    return show(
      deps,
      { ...fresh, screen: resumeScreen, resume: { flow: resumable.flow, screen: resumable.screen, page: resumable.page } },
      [],
    );
  }
  return show(deps, fresh, started.events);
}

/** One input typed by the caller. */
export function answer(deps: ConversationDeps, context: StepContext, state: ConversationState, input: string): Turn {
  if (state.resume) {
    if (input === '1') return show(deps, { flow: state.resume.flow, screen: state.resume.screen, page: state.resume.page }, []);
    if (input === '2') return begin(deps, context, { ...state.flow.vars });
    return show(deps, { ...state, screen: { ...resumeScreen, notice: { key: 'common.invalid_option' } } }, []);
  }
  const language = languageOf(deps, state.flow.vars);
  const pages = deps.render(state.screen, language).pages.length;
  if (input === deps.keys.more && state.page < pages - 1) return show(deps, { ...state, page: state.page + 1 }, []);
  if (input === deps.keys.back && state.page > 0) return show(deps, { ...state, page: state.page - 1 }, []);
  // An ended flow still on show (a long END text being paged): anything else shows the page again.
  if (state.flow.ended) return show(deps, state, []);

  const result = step(deps.flows, state.flow, input, context, engineOptions(deps));
  return show(deps, { flow: result.state, screen: result.screen, page: 0 }, result.events);
}

/**
 * Rebuilds a session from AT's whole `text` when its state is unknown (Redis down, or expired):
 * flows are deterministic, so the same inputs lead to the same place. Only the events of the last
 * input are returned; earlier ones were applied on earlier hops. Free text that contained "*" is
 * split wrongly here: the documented limit of this mode.
 *
 * A path whose first input is a flow's shortcut starts in that flow: "*321*7#" reaches us as a first
 * hop with the text "7". The main menu offers the same flow under the same number, so a session that
 * typed 7 there replays to the same screen.
 */
export function replay(deps: ConversationDeps, context: StepContext, vars: Vars, text: string): Turn {
  const inputs = text === '' ? [] : text.split('*');
  const shortcut = deps.flows.shortcuts.get(inputs[0] ?? '');
  let turn = begin(deps, context, vars, undefined, shortcut);
  for (const input of shortcut === undefined ? inputs : inputs.slice(1)) {
    if (turn.reply.end) break;
    turn = answer(deps, context, turn.state, input);
  }
  return turn;
}
