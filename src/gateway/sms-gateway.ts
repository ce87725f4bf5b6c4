/** One text to one or more numbers (E.164), as a gateway takes it. */
export interface OutgoingSms {
  readonly to: readonly string[];
  readonly text: string;
  /** Sender ID or short code; the gateway's default when absent. */
  readonly from?: string;
  /**
   * What it is for ("campaign", "campaign.test", "hotline.alert"...): the emulator keeps it, to show each
   * message only to whom may see it.
   */
  readonly purpose?: string;
}

/** The purposes of campaign messages (a campaign's sends and its test sends to staff). */
export const CAMPAIGN_PURPOSE = 'campaign';
export const CAMPAIGN_PURPOSES: readonly string[] = [CAMPAIGN_PURPOSE, 'campaign.test'];

/** What became of one recipient of a send. */
export interface RecipientResult {
  readonly to: string;
  /** accepted: the gateway took it (delivery comes later, by report). */
  readonly outcome: 'accepted' | 'transient' | 'permanent';
  readonly messageId?: string;
  /** The gateway's own per-recipient status code (AT: 100-102 accepted, 401-409, 500-501). */
  readonly statusCode: number;
  readonly status: string;
  /** The gateway's cost string, e.g. "XOF 20.0000". */
  readonly cost?: string;
  readonly parts?: number;
}

/** A failure of the whole call, before any per-recipient answer. */
export class GatewayError extends Error {
  constructor(
    /** transient: retry later; auth: credentials refused (401); balance: out of credit (402); rejected: the request itself is wrong. */
    readonly kind: 'transient' | 'auth' | 'balance' | 'rejected',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

/** A provider behind safeline's SMS: Africa's Talking, or the local emulator. Chosen by SMS_GATEWAY. */
export interface SmsGateway {
  readonly name: string;
  send(batch: OutgoingSms): Promise<RecipientResult[]>;
}
