import type { RecordOutcome, ResultsStore } from '../results/results-store';
import { OTHER, categoryOf, pollFlowOf, type CampaignPoll } from './campaign-poll';
import type { CampaignStore } from './campaign-store';
import type { PollSend, PollSends } from './poll-sends';

/** The gateway's clock (AT's `date`) and ours may differ: a reply dated this much before the send still answers it. */
const CLOCK_SLACK_MS = 60_000;

/** A poll a phone may answer now: what was sent to it, and the campaign's question. */
export interface OpenPoll {
  readonly send: PollSend;
  readonly poll: CampaignPoll;
}

/** What the inbound SMS handler (sms/) needs of polls: find the poll a reply answers, sort it, keep it, thank once. */
export interface PollReplies {
  /** The poll this phone's message at `at` answers (its latest poll send, the message inside its window), else undefined. */
  openFor(phoneHash: string, at: Date): Promise<OpenPoll | undefined>;
  /** The reply's category in the recipient's language (digits in any), OTHER, or null for an empty reply. */
  categoryOf(open: OpenPoll, text: string): string | null;
  /** Stores the reply as a result by phone hash: its category, and for OTHER its length, never its text. */
  record(open: OpenPoll, reply: { phoneHash: string; category: string; text: string; smsId: string; at: Date }): Promise<RecordOutcome>;
  /** True once per poll and phone: the reply that gets the thank-you SMS; `failed` takes it back when it could not be queued. */
  thankOnce(open: OpenPoll, phoneHash: string, now: Date): Promise<{ first: boolean; failed(): Promise<void> }>;
}

export function createPollReplies(deps: {
  sends: PollSends;
  campaigns: Pick<CampaignStore, 'get'>;
  results: Pick<ResultsStore, 'recordPollReply'>;
}): PollReplies {
  return {
    async openFor(phoneHash, at) {
      const send = await deps.sends.latest(phoneHash);
      if (!send) return undefined;
      const time = at.getTime();
      if (time < send.sentAt - CLOCK_SLACK_MS || time > send.sentAt + send.windowMs) return undefined;
      const poll = (await deps.campaigns.get(send.campaign))?.poll;
      return poll ? { send, poll } : undefined;
    },
    categoryOf: (open, text) => categoryOf(open.poll, open.send.language, text),
    record(open, reply) {
      const { phoneHash, category } = reply;
      return deps.results.recordPollReply(
        {
          respondent: phoneHash,
          // One sitting per poll and respondent: the SMS exchange is the sitting, so each campaign keeps one reply per person.
          sitting: phoneHash,
          flow: pollFlowOf(open.send.campaign),
          node: 'sms_reply',
          result: open.poll.result,
          category,
          language: open.send.language,
          eventId: `sms:${reply.smsId}`,
          ...(category === OTHER ? { length: [...reply.text.trim()].length } : {}),
        },
        reply.at,
      );
    },
    async thankOnce(open, phoneHash, now) {
      const first = await deps.sends.firstThanks(phoneHash, open.send, now.getTime());
      return { first, failed: () => deps.sends.unthank(phoneHash, open.send) };
    },
  };
}
