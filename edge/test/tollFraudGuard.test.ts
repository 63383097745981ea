import type { PstnPolicy } from '@callstack/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFor, isCostly, parseDestination, parseFromCarrier, type Destination } from '../src/pstn/destination.ts';
import type { SpendStanding } from '../src/billing/authorize.ts';
import { ALERT_INTERVAL_MS, checkDestination, EMPTY_GUARD, guard, SETUP_ALLOWANCE_MS, type GuardState, type SpendCheck } from '../src/pstn/tollFraudGuard.ts';

const policy: PstnPolicy = {
  defaultCountry: 'GB',
  internationalCountries: [],
  allowedPrefixes: [],
  maxConcurrentCalls: 3,
  maxConcurrentCallsPerUser: 2,
  maxCallsPerSecond: 2,
  maxCallsPerMinutePerUser: 5,
  maxCallDurationSeconds: 3600,
  mainNumber: null,
};

function destination(dialled: string, country = 'GB'): Destination {
  const parsed = parseDestination(dialled, country);
  if (!parsed) throw new Error(`${dialled} did not parse`);
  return parsed;
}

describe('parseDestination', () => {
  it('reads national, international and 00-prefixed forms to the same E.164 number', () => {
    for (const [dialled, country] of [
      ['+44 20 7946 0958', 'US'],
      ['020 7946 0958', 'GB'],
      ['00 44 20 7946 0958', 'DE'],
      ['(020) 7946-0958', 'GB'],
    ] as const) {
      expect(parseDestination(dialled, country)).toEqual({ e164: '+442079460958', country: 'GB', type: 'FIXED_LINE' });
    }
  });

  it('refuses what is no phone number: short and emergency codes, letters, nothing, too long', () => {
    for (const dialled of ['911', '112', '999', 'abc', '', '   ', '+44', '1'.repeat(40), '+44 20 7946 0958 ext 12 and more text here']) {
      expect(parseDestination(dialled, 'GB')).toBeNull();
    }
  });

  it('never throws and always answers E.164 or null, whatever is typed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.constantFrom('GB', 'US', 'DE', 'FR'), (dialled, country) => {
        const parsed = parseDestination(dialled, country);
        return parsed === null || /^\+[1-9]\d{5,14}$/.test(parsed.e164);
      }),
    );
  });

  it('knows premium-rate ranges and numbers of no country as costly', () => {
    expect(isCostly(destination('+1 900 555 0100', 'US'))).toBe(true);
    expect(isCostly(destination('0909 879 0000'))).toBe(true);
    expect(isCostly(destination('+881 6 1234 5678'))).toBe(true);
    expect(isCostly(destination('+882 16 1234 5678'))).toBe(true);
    expect(isCostly(destination('020 7946 0958'))).toBe(false);
    expect(isCostly(destination('+1 212 555 0123', 'US'))).toBe(false);
  });
});

describe('formatFor', () => {
  it('writes the number as each carrier wants it', () => {
    expect(formatFor('+442079460958', 'e164', 'GB')).toBe('+442079460958');
    expect(formatFor('+442079460958', 'digits', 'GB')).toBe('442079460958');
    expect(formatFor('+442079460958', 'national', 'GB')).toBe('02079460958');
    // Another country's number stays international for a national-format carrier.
    expect(formatFor('+12125550123', 'national', 'GB')).toBe('+12125550123');
  });
});

describe('parseFromCarrier', () => {
  it('reads what each carrier writes back into E.164, and is the inverse of formatFor', () => {
    for (const format of ['e164', 'digits', 'national'] as const) {
      expect(parseFromCarrier(formatFor('+442079460958', format, 'GB'), format, 'GB')).toBe('+442079460958');
    }
    // A + is E.164 whatever the trunk's format says.
    expect(parseFromCarrier('+12125550123', 'national', 'GB')).toBe('+12125550123');
  });

  it('a withheld, garbled or hostile caller is no number', () => {
    for (const written of ['anonymous', '', '12', '+44 20 7946 0958', "0'; drop table users --", '4420794609581234567']) {
      expect(parseFromCarrier(written, 'e164', 'GB')).toBeNull();
    }
  });
});

describe('checkDestination', () => {
  it('lets domestic calls through', () => {
    expect(checkDestination(policy, destination('020 7946 0958'))).toEqual({ ok: true });
  });

  it('keeps international calling closed until a country is opened', () => {
    const paris = destination('+33 1 42 68 53 00');
    expect(checkDestination(policy, paris)).toMatchObject({ ok: false, reason: 'international_closed', sipStatus: 403 });
    expect(checkDestination({ ...policy, internationalCountries: ['FR'] }, paris)).toEqual({ ok: true });
    // Opening France opens France only.
    expect(checkDestination({ ...policy, internationalCountries: ['FR'] }, destination('+49 30 901820'))).toMatchObject({ reason: 'international_closed' });
  });

  it('blocks premium and high-risk numbers even where the country is open, unless their prefix is', () => {
    const premium = destination('0909 879 0000');
    expect(checkDestination(policy, premium)).toMatchObject({ ok: false, reason: 'premium_blocked', sipStatus: 403 });
    expect(checkDestination({ ...policy, allowedPrefixes: ['+44909'] }, premium)).toEqual({ ok: true });
    expect(checkDestination({ ...policy, allowedPrefixes: ['+44908'] }, premium)).toMatchObject({ reason: 'premium_blocked' });
    expect(checkDestination(policy, destination('+881 6 1234 5678'))).toMatchObject({ reason: 'premium_blocked' });
    // A Caribbean number behind +1 is its own country, not the US.
    expect(checkDestination({ ...policy, defaultCountry: 'US' }, destination('+1 876 555 0123'))).toMatchObject({ reason: 'international_closed' });
  });
});

describe('guard', () => {
  const ADMITTED = { ok: true, maxSeconds: policy.maxCallDurationSeconds };
  const admit = (state: GuardState, callId: string, userId: string, now: number, with_ = policy) =>
    guard(state, { kind: 'admit', callId, userId, policy: with_ }, now);

  it('admits up to the per-person limit, then answers 486 for that person only', () => {
    let state = EMPTY_GUARD;
    for (const callId of ['a1', 'a2']) {
      const step = admit(state, callId, 'alice', 0);
      expect(step.verdict).toEqual(ADMITTED);
      state = step.state;
    }
    expect(admit(state, 'a3', 'alice', 5_000).verdict).toMatchObject({ ok: false, reason: 'concurrency_limit', sipStatus: 486 });
    expect(admit(state, 'b1', 'bob', 5_000).verdict).toEqual(ADMITTED);
  });

  it('answers 503 when the tenant is full, and frees a slot when a call ends', () => {
    let state = EMPTY_GUARD;
    for (const [callId, userId, at] of [
      ['a1', 'alice', 0],
      ['b1', 'bob', 2_000],
      ['c1', 'carol', 4_000],
    ] as const)
      state = admit(state, callId, userId, at).state;
    expect(admit(state, 'd1', 'dave', 6_000).verdict).toMatchObject({ ok: false, reason: 'concurrency_limit', sipStatus: 503 });
    state = guard(state, { kind: 'release', callId: 'b1' }, 7_000).state;
    expect(admit(state, 'd1', 'dave', 8_000).verdict).toEqual(ADMITTED);
  });

  it('a carrier’s call takes a slot of the tenant’s concurrent calls, busy (486) when none is left, outside the dialling rates and per-person limits', () => {
    const inbound = (state: GuardState, callId: string, userId: string, now: number) => guard(state, { kind: 'admit-inbound', callId, userId, policy }, now);
    let state = EMPTY_GUARD;
    // Three at once for alice, within one second: more than her own limit and the tenant's rate.
    for (const callId of ['in1', 'in2', 'in3']) {
      const step = inbound(state, callId, 'alice', 100);
      expect(step.verdict).toEqual(ADMITTED);
      state = step.state;
    }
    expect(state.recent).toEqual([]);
    expect(inbound(state, 'in4', 'bob', 200).verdict).toMatchObject({ ok: false, reason: 'concurrency_limit', sipStatus: 486 });
    // The tenant is full for calls out too, and a freed slot serves either way.
    expect(admit(state, 'out1', 'bob', 300).verdict).toMatchObject({ ok: false, reason: 'concurrency_limit' });
    state = guard(state, { kind: 'release', callId: 'in2' }, 400).state;
    expect(inbound(state, 'in4', 'bob', 500).verdict).toEqual(ADMITTED);
  });

  it('limits new calls per second for the tenant and per minute for a person', () => {
    let state = EMPTY_GUARD;
    state = admit(state, 'a1', 'alice', 0).state;
    state = guard(admit(state, 'b1', 'bob', 100).state, { kind: 'release', callId: 'b1' }, 200).state;
    expect(admit(state, 'c1', 'carol', 500).verdict).toMatchObject({ ok: false, reason: 'rate_limit', sipStatus: 503 });
    expect(admit(state, 'c1', 'carol', 1_200).verdict).toEqual(ADMITTED);

    let own = EMPTY_GUARD;
    for (let index = 0; index < 5; index++) {
      own = admit(own, `x${index}`, 'alice', index * 2_000).state;
      own = guard(own, { kind: 'release', callId: `x${index}` }, index * 2_000 + 1_000).state;
    }
    expect(admit(own, 'x5', 'alice', 10_000).verdict).toMatchObject({ reason: 'rate_limit' });
    expect(admit(own, 'x5', 'alice', 61_000).verdict).toEqual(ADMITTED);
  });

  it('a call whose end never came frees its slot after its longest life', () => {
    const full = { ...policy, maxConcurrentCalls: 1 };
    const state = admit(EMPTY_GUARD, 'a1', 'alice', 0, full).state;
    const lifetime = full.maxCallDurationSeconds * 1000 + SETUP_ALLOWANCE_MS;
    expect(admit(state, 'b1', 'bob', lifetime - 1, full).verdict).toMatchObject({ reason: 'concurrency_limit' });
    expect(admit(state, 'b1', 'bob', lifetime, full).verdict).toEqual(ADMITTED);
  });

  it('alerts the admins when a limit refuses, at most once an hour per limit', () => {
    const closed = { ...policy, maxConcurrentCalls: 0 };
    const first = admit(EMPTY_GUARD, 'a1', 'alice', 0, closed);
    expect(first.effects).toEqual([{ kind: 'alert', reason: 'concurrency_limit', userId: 'alice', message: expect.any(String) }]);
    expect(admit(first.state, 'a2', 'alice', ALERT_INTERVAL_MS - 1, closed).effects).toEqual([]);
    expect(admit(first.state, 'a2', 'alice', ALERT_INTERVAL_MS, closed).effects).toHaveLength(1);
  });

  it('asking twice about one call admits it once', () => {
    const once = admit(EMPTY_GUARD, 'a1', 'alice', 0);
    const twice = admit(once.state, 'a1', 'alice', 10);
    expect(twice.verdict).toEqual(ADMITTED);
    expect(Object.keys(twice.state.active)).toEqual(['a1']);
    expect(twice.state.recent).toHaveLength(1);
  });

  it('never holds more calls than the limits, whatever the order of admissions and ends', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), call: fc.integer({ min: 0, max: 20 }), user: fc.constantFrom('alice', 'bob', 'carol') }),
      fc.record({ kind: fc.constant('release' as const), call: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.integer({ min: 0, max: 3_000 })), { maxLength: 60 }), (steps) => {
        let state = EMPTY_GUARD;
        let now = 0;
        for (const [step, gap] of steps) {
          now += gap;
          state =
            step.kind === 'admit' ? admit(state, `c${step.call}`, step.user, now).state : guard(state, { kind: 'release', callId: `c${step.call}` }, now).state;
          const active = Object.values(state.active);
          if (active.length > policy.maxConcurrentCalls) return false;
          for (const user of ['alice', 'bob', 'carol']) {
            if (active.filter((call) => call.userId === user).length > policy.maxConcurrentCallsPerUser) return false;
          }
        }
        return true;
      }),
    );
  });
});

describe('guard with billing’s authorize', () => {
  /** 0.06 a minute by the second: 1,000 micros a second. */
  const standing = (overrides: Partial<SpendStanding> = {}): SpendStanding => ({
    currency: 'USD',
    rate: {
      prefix: '44',
      destination: 'United Kingdom',
      pricePerMinute: 60_000,
      connectFee: 0,
      initialSeconds: 1,
      incrementSeconds: 1,
      minimumCharge: 0,
      rounding: 'up',
    },
    blockAboveMicros: 500_000,
    dailyCapMicros: 10_000_000,
    monthlyCapMicros: null,
    spentTodayMicros: 0,
    spentPeriodMicros: 0,
    paymentOverdue: false,
    ...overrides,
  });
  const roomy = { ...policy, maxConcurrentCalls: 100, maxConcurrentCallsPerUser: 100, maxCallsPerSecond: 100, maxCallsPerMinutePerUser: 100 };
  const admit = (state: GuardState, callId: string, now: number, spend: SpendCheck, with_ = roomy) =>
    guard(state, { kind: 'admit', callId, userId: 'alice', policy: with_, spend }, now);

  it('shortens the longest duration to what the money left buys, and reserves it', () => {
    const first = admit(EMPTY_GUARD, 'a1', 0, { standing: standing({ spentTodayMicros: 8_200_000 }), opened: false });
    // 1.80 left at 0.06 a minute is 1,800 s, under the policy's hour.
    expect(first.verdict).toEqual({ ok: true, maxSeconds: 1_800 });
    expect(first.state.active.a1?.reservedMicros).toBe(1_800_000);
    // A second call at once gets nothing of what the first holds: the cap is reached.
    const second = admit(first.state, 'a2', 10, { standing: standing({ spentTodayMicros: 8_200_000 }), opened: false });
    expect(second.verdict).toMatchObject({ ok: false, reason: 'spend_cap', sipStatus: 403 });
    expect(second.effects).toEqual([{ kind: 'alert', reason: 'spend_cap', userId: 'alice', message: expect.any(String) }]);
    // The first ends: its reservation is free again.
    const released = guard(first.state, { kind: 'release', callId: 'a1' }, 20).state;
    expect(admit(released, 'a3', 30, { standing: standing({ spentTodayMicros: 8_200_000 }), opened: false }).verdict).toEqual({ ok: true, maxSeconds: 1_800 });
  });

  it('refuses a destination without a price, and one priced above the deck’s limit unless its prefix was opened', () => {
    expect(admit(EMPTY_GUARD, 'a1', 0, { standing: standing({ rate: null }), opened: false }).verdict).toMatchObject({ reason: 'no_rate', sipStatus: 403 });
    const premium = standing({ rate: { ...standing().rate!, prefix: '449', destination: 'UK premium', pricePerMinute: 1_500_000 } });
    const blocked = admit(EMPTY_GUARD, 'a1', 0, { standing: premium, opened: false });
    expect(blocked.verdict).toMatchObject({ reason: 'destination_blocked', sipStatus: 403 });
    expect(blocked.effects).toEqual([]);
    // Opened: allowed, for as long as 10.00 buys at 1.50 a minute (400 s).
    expect(admit(EMPTY_GUARD, 'a1', 0, { standing: premium, opened: true }).verdict).toEqual({ ok: true, maxSeconds: 400 });
  });

  it('with no caps, or a free destination, the policy’s longest duration holds', () => {
    expect(admit(EMPTY_GUARD, 'a1', 0, { standing: standing({ dailyCapMicros: null }), opened: false }).verdict).toEqual({
      ok: true,
      maxSeconds: roomy.maxCallDurationSeconds,
    });
    const free = standing({ rate: { ...standing().rate!, pricePerMinute: 0 }, spentTodayMicros: 10_000_000 });
    expect(admit(EMPTY_GUARD, 'a1', 0, { standing: free, opened: false }).verdict).toEqual({ ok: true, maxSeconds: roomy.maxCallDurationSeconds });
  });

  it('an invoice unpaid past its grace period stops calls that cost money, not free ones', () => {
    const overdue = admit(EMPTY_GUARD, 'a1', 0, { standing: standing({ paymentOverdue: true, dailyCapMicros: null }), opened: false });
    expect(overdue.verdict).toMatchObject({ ok: false, reason: 'payment_overdue', sipStatus: 403, message: expect.stringMatching(/unpaid/) });
    const free = standing({ rate: { ...standing().rate!, pricePerMinute: 0 }, paymentOverdue: true });
    expect(admit(EMPTY_GUARD, 'a1', 0, { standing: free, opened: false }).verdict).toEqual({ ok: true, maxSeconds: roomy.maxCallDurationSeconds });
  });

  it('calls admitted together never reserve more than the cap, whatever their prices and increments', () => {
    const row = fc.record({
      pricePerMinute: fc.integer({ min: 1, max: 400_000 }),
      connectFee: fc.integer({ min: 0, max: 50_000 }),
      minimumCharge: fc.integer({ min: 0, max: 100_000 }),
      increments: fc.constantFrom([1, 1], [6, 6], [60, 60], [60, 1], [30, 6]),
      rounding: fc.constantFrom('up' as const, 'down' as const, 'half-up' as const),
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 20_000_000 }), (rows, spent) => {
        let state = EMPTY_GUARD;
        rows.forEach((r, index) => {
          const rate = { ...standing().rate!, ...r, initialSeconds: r.increments[0]!, incrementSeconds: r.increments[1]! };
          state = admit(state, `c${index}`, index, { standing: standing({ rate, spentTodayMicros: spent }), opened: false }).state;
        });
        const reserved = Object.values(state.active).reduce((sum, call) => sum + (call.reservedMicros ?? 0), 0);
        return reserved <= Math.max(0, 10_000_000 - spent);
      }),
    );
  });
});
