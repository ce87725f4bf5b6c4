export const ROLES = ['admin', 'campaign_manager', 'hotline_agent', 'partner_viewer'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);
