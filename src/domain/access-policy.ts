/**
 * The access policy: who may vend which profile, when. An ordered list of rules; the first rule whose
 * conditions all match decides, and when none matches the answer is deny (invariant 5: fail closed).
 * Everything is compiled when the document is parsed (access-policy-document.ts, access-policy-yaml.ts):
 * evaluating walks the rules with precompiled tests and returns a decision built at parse time, allocating
 * nothing per rule.
 */
import { matchList, type PatternList } from './access-policy-glob.js';
import type { SessionPolicy } from './durations.js';

export type Effect = 'allow' | 'deny';
/** As the operator wrote it: recorded with every decision so an audit can tell which policy answered. */
export type PolicyVersion = string | number;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TimeWindow {
  /** As written; undefined means every day. */
  readonly days: readonly Weekday[] | undefined;
  /** As written (`"HH:MM-HH:MM"`); undefined means the whole day. */
  readonly hours: string | undefined;
  readonly timezone: string;
  /** Bit d is set when a window may start on weekday d (0 = Monday). */
  readonly dayMask: number;
  /** Local minutes of the day, start inclusive, end exclusive; end < start crosses midnight; end ≤ 1440. */
  readonly startMinute: number;
  readonly endMinute: number;
}

export interface PolicyRule {
  readonly name: string;
  readonly effect: Effect;
  readonly reason: string | undefined;
  readonly maxLifetimeSeconds: number | undefined;
  /** Conditions; an absent (undefined) one matches anything. */
  readonly profiles: PatternList | undefined;
  readonly principals: PatternList | undefined;
  readonly accounts: PatternList | undefined;
  readonly organizations: PatternList | undefined;
  readonly users: PatternList | undefined;
  readonly time: TimeWindow | undefined;
  /** What this rule answers when it matches, built once. */
  readonly decision: Decision;
}

export interface AccessPolicy {
  readonly version: PolicyVersion;
  readonly rules: readonly PolicyRule[];
  /** Principal ARN globs that may act on other people's sessions. */
  readonly admins: PatternList;
  /** Role-name globs whose session name is the user (besides AWSReservedSSO_*), for `parseCallerArn`. */
  readonly identityRoles: readonly string[];
  /** The answer when no rule matches. */
  readonly defaultDecision: Decision;
  /**
   * The rules, in order, whose profile condition matches each profile named literally somewhere in the
   * policy, decided at parse time: a request for such a profile tries only these, and skips the profile
   * test. Empty when the index would be too large.
   */
  readonly rulesByProfile: ReadonlyMap<string, readonly PolicyRule[]>;
  /** The rules a profile outside that index can match: no profile condition, or one with a glob. */
  readonly rulesForOtherProfiles: readonly PolicyRule[];
}

export interface AccessRequest {
  readonly principalArn: string;
  readonly accountId: string;
  /** The caller's organization (`principalOrgId`); an `organizations` condition never matches without one. */
  readonly orgId?: string | undefined;
  /** The canonical user (`CallerIdentity.user`). */
  readonly user: string;
  readonly profile: string;
  readonly at: Date;
}

export interface Decision {
  readonly effect: Effect;
  /** The rule that decided; undefined when none matched. */
  readonly rule: string | undefined;
  readonly reason: string;
  readonly policyVersion: PolicyVersion;
  /** Caps the profile's max lifetime for the session this decision allows. */
  readonly maxLifetimeSeconds?: number;
}

export const DEFAULT_DENY_REASON = 'no rule matched: denied by default';

const MINUTE_MS = 60_000;
const WEEK_MINUTES = 7 * 1440;
/** Minutes per cached span of a zone's clock (see readClock). */
const SPAN_MINUTES = 15;

/**
 * One formatter per time zone, and the span of 15 UTC minutes it last read: `base` is the local minute of
 * the week at the span's start, or -1 when the span holds an offset change.
 */
interface ZoneClock {
  readonly formatter: Intl.DateTimeFormat;
  span: number;
  base: number;
}

const clocks = new Map<string, ZoneClock>();
const WEEKDAY_INDEX: Readonly<Record<string, number>> = {
  Mon: 0,
  Tue: 1,
  Wed: 2,
  Thu: 3,
  Fri: 4,
  Sat: 5,
  Sun: 6,
};

const clockOf = (timeZone: string): ZoneClock => {
  let clock = clocks.get(timeZone);
  if (clock === undefined) {
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    clock = { formatter, span: Number.NaN, base: -1 };
    clocks.set(timeZone, clock);
  }
  return clock;
};

/** The local minute of the week (0 = Monday 00:00) as the zone's wall clock shows it. */
const formatMinuteOfWeek = (formatter: Intl.DateTimeFormat, epochMs: number): number => {
  let weekday = -1;
  let hour = -1;
  let minute = -1;
  for (const part of formatter.formatToParts(epochMs)) {
    if (part.type === 'weekday') weekday = WEEKDAY_INDEX[part.value] ?? -1;
    else if (part.type === 'hour')
      hour = Number(part.value) % 24; // some ICU versions wrote midnight as 24
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (weekday < 0 || !(hour >= 0) || !(minute >= 0)) {
    throw new RangeError(`cannot read the local time in ${formatter.resolvedOptions().timeZone}`);
  }
  return weekday * 1440 + hour * 60 + minute;
};

/**
 * The local minute of the week at `epochMs`. formatToParts costs microseconds, so it runs twice per zone
 * per 15 UTC minutes: at the span's first and last minute. When they are 14 minutes apart the offset held
 * all span long (offsets change on whole minutes) and any instant in it is the start plus the minutes
 * since; otherwise the span holds a DST change and each instant is formatted.
 */
const readClock = (clock: ZoneClock, epochMs: number): number => {
  const minute = Math.floor(epochMs / MINUTE_MS);
  const span = minute - (((minute % SPAN_MINUTES) + SPAN_MINUTES) % SPAN_MINUTES);
  if (span !== clock.span) {
    const start = formatMinuteOfWeek(clock.formatter, span * MINUTE_MS);
    const end = formatMinuteOfWeek(clock.formatter, (span + SPAN_MINUTES - 1) * MINUTE_MS);
    clock.span = span;
    clock.base = (end - start + WEEK_MINUTES) % WEEK_MINUTES === SPAN_MINUTES - 1 ? start : -1;
  }
  if (clock.base < 0) return formatMinuteOfWeek(clock.formatter, epochMs);
  return (clock.base + minute - span) % WEEK_MINUTES;
};

/** The local weekday (0 = Monday) and minute of the day at `epochMs` in `timeZone`. */
export const localTime = (timeZone: string, epochMs: number): { weekday: number; minute: number } => {
  const minuteOfWeek = readClock(clockOf(timeZone), epochMs);
  return { weekday: Math.floor(minuteOfWeek / 1440), minute: minuteOfWeek % 1440 };
};

/**
 * Whether `epochMs` falls in the window. A window that crosses midnight belongs to the day it starts:
 * `fri 22:00-06:00` holds Friday 23:00 and Saturday 05:59, not Friday 05:00 (that is Thursday's night).
 */
export const inTimeWindow = (window: TimeWindow, epochMs: number): boolean => {
  const minuteOfWeek = readClock(clockOf(window.timezone), epochMs);
  const weekday = Math.floor(minuteOfWeek / 1440);
  const minute = minuteOfWeek % 1440;
  const { dayMask, startMinute, endMinute } = window;
  if (startMinute < endMinute) {
    return ((dayMask >> weekday) & 1) === 1 && minute >= startMinute && minute < endMinute;
  }
  if (minute >= startMinute) return ((dayMask >> weekday) & 1) === 1;
  if (minute < endMinute) return ((dayMask >> ((weekday + 6) % 7)) & 1) === 1;
  return false;
};

/** Readies the formatter of a zone at parse time, so the first request does not pay for it. */
export const warmTimeZone = (timeZone: string): void => {
  clockOf(timeZone);
};

const invalidTime = (policy: AccessPolicy): Decision => ({
  effect: 'deny',
  rule: undefined,
  reason: 'the request time is not a valid date: denied',
  policyVersion: policy.version,
});

/** The first matching rule's decision, or the default deny. */
export const evaluate = (policy: AccessPolicy, request: AccessRequest): Decision => {
  const epochMs = request.at.getTime();
  // A time window cannot be judged without a time; skipping a deny rule would fail open, so deny outright.
  if (Number.isNaN(epochMs)) return invalidTime(policy);
  const { profile, principalArn, accountId, orgId, user } = request;
  const indexed = policy.rulesByProfile.get(profile);
  const rules = indexed ?? policy.rulesForOtherProfiles;
  const testProfile = indexed === undefined;
  for (const rule of rules) {
    if (testProfile && rule.profiles !== undefined && !matchList(rule.profiles, profile)) continue;
    if (rule.accounts !== undefined && !matchList(rule.accounts, accountId)) continue;
    if (rule.organizations !== undefined && (orgId === undefined || !matchList(rule.organizations, orgId)))
      continue;
    if (rule.principals !== undefined && !matchList(rule.principals, principalArn)) continue;
    if (rule.users !== undefined && !matchList(rule.users, user)) continue;
    if (rule.time !== undefined && !inTimeWindow(rule.time, epochMs)) continue;
    return rule.decision;
  }
  return policy.defaultDecision;
};

/**
 * The profile's session policy under an allow: the rule's maxLifetimeSeconds caps the max lifetime, and the
 * idle window with it (a window longer than the lifetime would promise what the cap takes back). A cap
 * never raises a limit.
 */
export const cappedSessionPolicy = (policy: SessionPolicy, decision: Decision): SessionPolicy => {
  const cap = decision.maxLifetimeSeconds;
  if (cap === undefined || cap >= policy.maxLifetimeSeconds) return policy;
  return { idleTimeoutSeconds: Math.min(policy.idleTimeoutSeconds, cap), maxLifetimeSeconds: cap };
};

/** Whether the principal may act on other people's sessions. */
export const isAdmin = (policy: AccessPolicy, principalArn: string): boolean =>
  matchList(policy.admins, principalArn);

export interface ShadowedRule {
  readonly rule: string;
  readonly shadowedBy: string;
  readonly message: string;
}

const LIST_CONDITIONS = ['profiles', 'principals', 'accounts', 'organizations', 'users'] as const;

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((pattern) => set.has(pattern));
};

/** Whether every request `later` matches is also matched by `earlier` (conservatively; see shadowedRules). */
const covers = (earlier: PolicyRule, later: PolicyRule): boolean => {
  if (earlier.time !== undefined) return false;
  return LIST_CONDITIONS.every((key) => {
    const e = earlier[key];
    if (e === undefined || e.matchesAll) return true;
    const l = later[key];
    return l !== undefined && sameSet(e.patterns, l.patterns);
  });
};

/**
 * Rules that can never match because an earlier rule matches everything they do. Deliberately simple and
 * conservative (it may miss a shadowed rule, it never reports a live one): an earlier rule E shadows R when
 * E has no time window and each of E's list conditions is absent, contains `*`, or has exactly R's patterns.
 * Glob containment (`dev-*` ⊇ `dev-a`) is not analysed.
 */
export const shadowedRules = (policy: AccessPolicy): ShadowedRule[] => {
  const found: ShadowedRule[] = [];
  policy.rules.forEach((rule, index) => {
    const by = policy.rules.slice(0, index).find((earlier) => covers(earlier, rule));
    if (by === undefined) return;
    found.push({
      rule: rule.name,
      shadowedBy: by.name,
      message: `rule "${rule.name}" can never match: the earlier rule "${by.name}" (${by.effect}) matches everything it does`,
    });
  });
  return found;
};
