/**
 * The billing a tenant has until an admin saves its own: the standard plan (migration 0015), a
 * period from the first of the month, no tax, and spend caps that bound what a stolen password can
 * cost in a day (the toll-fraud guard's last line) without getting in an ordinary company's way.
 */
export const DEFAULT_BILLING = {
  planId: 'standard',
  dailyCapMicros: 100_000_000,
  monthlyCapMicros: 1_000_000_000,
  anchorDay: 1,
  taxRateBasisPoints: 0,
} as const;

/** The spend alerts admins get: at 80% of a cap, and when it is reached. */
export const ALERT_THRESHOLDS = [80, 100] as const;
