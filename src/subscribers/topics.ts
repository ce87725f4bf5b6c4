/** What a subscriber can choose to hear about (the subscriptions flow offers the same list). */
export const TOPICS = ['recruiters', 'law', 'migration', 'children', 'help'] as const;
export type Topic = (typeof TOPICS)[number];
export const isTopic = (value: string): value is Topic => (TOPICS as readonly string[]).includes(value);
