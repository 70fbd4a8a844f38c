/**
 * The access policy document → a compiled AccessPolicy. Validation is zod's, strict at every level: an
 * unknown field, a bad glob, time zone or hours, a duplicate rule name is an error naming where it is, and
 * nothing malformed ever becomes a policy (invariant 5: fail closed). zod/mini, not the chained API: the
 * same engine in about a fifth of the bundle (the chained API pulls in every locale). local/policy.yaml is
 * an example.
 */
import * as z from 'zod/mini';
import {
  type AccessPolicy,
  DEFAULT_DENY_REASON,
  type Decision,
  type PolicyRule,
  type TimeWindow,
  WEEKDAYS,
  type Weekday,
  warmTimeZone,
} from './access-policy.js';
import {
  compilePatternList,
  globProblem,
  isLiteral,
  matchList,
  type PatternList,
} from './access-policy-glob.js';
import { MIN_SERVABLE_IDLE_SECONDS } from './durations.js';
import { DomainError } from './errors.js';
import { ACCOUNT_ID } from './identity.js';

/** The document is malformed; `problems` lists every one found, each naming where it is. */
export class PolicyDocumentError extends DomainError {
  override readonly name = 'PolicyDocumentError';
  readonly code = 'InvalidAccessPolicy';
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source = 'access policy') {
    const shown = problems.slice(0, 50);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(
      `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        `${shown.map((p) => `  - ${p}`).join('\n')}${more}`,
    );
    this.problems = Object.freeze([...problems]);
  }
}

export const POLICY_DOCUMENT_MAX_CHARS = 1024 * 1024;
export const POLICY_MAX_RULES = 2000;
const MAX_LIFETIME_CEILING_SECONDS = 30 * 24 * 3600;

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
/** Profile names (PROFILE_NAME in the use cases) plus the glob characters. */
const PROFILE_GLOB = /^[A-Za-z0-9_.*?-]{1,64}$/;
/** Canonical users: IAM's name charset, `/` between role and session name, plus the glob characters. */
const USER_GLOB = /^[\w+=,.@/*?-]{1,200}$/;
/** Role names plus the glob characters. */
const ROLE_GLOB = /^[\w+=,.@*?-]{1,64}$/;

const isTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
};

const custom = (message: string) => ({ code: 'custom' as const, message });

/** A glob that `globProblem` accepts and that has the charset of what it matches. */
const glob = (what: string, charset: RegExp, hint: string) =>
  z.string(`${what} must be a string`).check(
    z.superRefine((value, ctx) => {
      const problem = globProblem(value) ?? (charset.test(value) ? undefined : hint);
      if (problem !== undefined) {
        ctx.addIssue(custom(`invalid ${what} ${JSON.stringify(value.slice(0, 200))}: ${problem}`));
      }
    }),
  );

const list = <T extends z.core.SomeType>(item: T, what: string) =>
  z.optional(
    z
      .array(item, `${what} must be a list`)
      .check(
        z.minLength(1, `${what} is empty and would match nothing; omit it to match anything`),
        z.maxLength(500, `${what} has more than 500 entries`),
      ),
  );

const principalGlob = glob(
  'principal pattern',
  /^(?:arn:|\*+$)/,
  'a principal pattern is an ARN glob: it starts with "arn:" (or is "*")',
);

const timeSchema = z
  .strictObject(
    {
      days: z.optional(
        z.array(z.enum(WEEKDAYS, 'days are mon, tue, wed, thu, fri, sat, sun'), 'days must be a list').check(
          z.minLength(1, 'days is empty; omit it to mean every day'),
          z.refine((days) => new Set(days).size === days.length, 'days lists a day twice'),
        ),
      ),
      hours: z.optional(
        z.string('hours must be a string "HH:MM-HH:MM"').check(
          z.regex(
            HOURS,
            'hours must be "HH:MM-HH:MM" in 24-hour time (end exclusive; "24:00" may end a window)',
          ),
          z.refine(
            (hours) => hours.slice(0, 5) !== hours.slice(6),
            'hours start and end are equal: an empty window',
          ),
        ),
      ),
      timezone: z.string('timezone must be an IANA time zone name, e.g. Europe/Berlin').check(
        z.superRefine((zone, ctx) => {
          if (!isTimeZone(zone)) {
            ctx.addIssue(
              custom(
                `unknown time zone ${JSON.stringify(zone.slice(0, 64))}: use an IANA name, e.g. Europe/Berlin`,
              ),
            );
          }
        }),
      ),
    },
    'time must be a mapping of days, hours and timezone',
  )
  .check(
    z.refine(
      (time) => time.days !== undefined || time.hours !== undefined,
      'a time window needs days, hours or both',
    ),
  );

const ruleSchema = z
  .strictObject(
    {
      name: z
        .string('a rule needs a name')
        .check(
          z.regex(
            RULE_NAME,
            'a rule name is 1-64 letters, digits, "_", ".", ":" or "-", starting with a letter or digit',
          ),
        ),
      effect: z.enum(['allow', 'deny'], 'effect must be "allow" or "deny"'),
      reason: z.optional(
        z
          .string('reason must be a string')
          .check(z.minLength(1, 'reason is empty'), z.maxLength(500, 'reason is at most 500 characters')),
      ),
      maxLifetimeSeconds: z.optional(
        z
          .int('maxLifetimeSeconds must be a whole number of seconds')
          .check(
            z.gte(
              MIN_SERVABLE_IDLE_SECONDS,
              `maxLifetimeSeconds below ${MIN_SERVABLE_IDLE_SECONDS} could serve no session`,
            ),
            z.lte(
              MAX_LIFETIME_CEILING_SECONDS,
              `maxLifetimeSeconds is at most ${MAX_LIFETIME_CEILING_SECONDS} (30 days)`,
            ),
          ),
      ),
      profiles: list(
        glob('profile pattern', PROFILE_GLOB, 'profile names are 1-64 of A-Z a-z 0-9 _ . - (and * ?)'),
        'profiles',
      ),
      principals: list(principalGlob, 'principals'),
      accounts: list(
        z
          .string('an account id is a string of 12 digits: quote it in YAML, or it reads as a number')
          .check(z.regex(ACCOUNT_ID, 'an account id is 12 digits')),
        'accounts',
      ),
      organizations: list(
        z
          .string('an organization id is a string')
          .check(z.regex(ORG_ID, 'an organization id is "o-" and 10-32 lowercase letters or digits')),
        'organizations',
      ),
      users: list(glob('user pattern', USER_GLOB, 'users are 1-200 of [\\w+=,.@/-] (and * ?)'), 'users'),
      time: z.optional(timeSchema),
    },
    'a rule must be a mapping with name, effect and conditions',
  )
  .check(
    z.superRefine((rule, ctx) => {
      if (rule.effect === 'deny' && rule.maxLifetimeSeconds !== undefined) {
        ctx.addIssue({
          ...custom('maxLifetimeSeconds caps sessions an allow rule starts; a deny rule starts none'),
          path: ['maxLifetimeSeconds'],
        });
      }
    }),
  );

const VERSION_RULE =
  'version is required: a string of 1-64 characters or a whole number, bumped with every change';

const documentSchema = z.strictObject(
  {
    version: z.union(
      [
        z.string().check(z.minLength(1, VERSION_RULE), z.maxLength(64, VERSION_RULE)),
        z.int(VERSION_RULE).check(z.gte(0, VERSION_RULE)),
      ],
      VERSION_RULE,
    ),
    rules: z.array(ruleSchema, 'rules must be a list').check(
      z.maxLength(POLICY_MAX_RULES, `a policy has at most ${POLICY_MAX_RULES} rules`),
      z.superRefine(
        (rules, ctx) => {
          // Runs even when a rule is malformed (`when`), so every problem shows in one pass: the items are
          // then as written, not as parsed.
          const seen = new Map<string, number>();
          (rules as readonly unknown[]).forEach((rule, index) => {
            const name =
              typeof rule === 'object' && rule !== null ? (rule as { name?: unknown }).name : undefined;
            if (typeof name !== 'string') return;
            const first = seen.get(name);
            if (first === undefined) seen.set(name, index);
            else {
              ctx.addIssue({
                ...custom(
                  `duplicate rule name ${JSON.stringify(name.slice(0, 64))} (first at rules[${first}])`,
                ),
                path: [index, 'name'],
              });
            }
          });
        },
        { when: (payload) => Array.isArray(payload.value) },
      ),
    ),
    admins: z
      .array(principalGlob, 'admins must be a list of principal ARN globs (may be empty)')
      .check(z.maxLength(500, 'admins has more than 500 entries')),
    identityRoles: list(
      glob('identity role pattern', ROLE_GLOB, 'role names are 1-64 of [\\w+=,.@-] (and * ?)'),
      'identityRoles',
    ),
  },
  'expected a mapping with version, rules and admins',
);

type RuleDocument = z.infer<typeof ruleSchema>;
type TimeDocument = z.infer<typeof timeSchema>;

const ALLOWED_KEYS: Readonly<Record<string, readonly string[]>> = {
  document: Object.keys(documentSchema.shape),
  rule: Object.keys(ruleSchema.shape),
  time: ['days', 'hours', 'timezone'],
};

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const compileTime = (time: TimeDocument): TimeWindow => {
  const days: readonly Weekday[] = time.days ?? WEEKDAYS;
  const dayMask = days.reduce<number>((mask, day) => mask | (1 << WEEKDAYS.indexOf(day)), 0);
  warmTimeZone(time.timezone);
  return {
    days: time.days === undefined ? undefined : Object.freeze([...time.days]),
    hours: time.hours,
    timezone: time.timezone,
    dayMask,
    startMinute: time.hours === undefined ? 0 : minutesOf(time.hours.slice(0, 5)),
    endMinute: time.hours === undefined ? 1440 : minutesOf(time.hours.slice(6)),
  };
};

const compileRule = (rule: RuleDocument, policyVersion: string | number): PolicyRule => {
  const decision: Decision = Object.freeze({
    effect: rule.effect,
    rule: rule.name,
    reason: rule.reason ?? `rule "${rule.name}" ${rule.effect === 'allow' ? 'allows' : 'denies'}`,
    policyVersion,
    ...(rule.maxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds: rule.maxLifetimeSeconds }),
  });
  const list = (patterns: readonly string[] | undefined): PatternList | undefined =>
    patterns === undefined ? undefined : compilePatternList(patterns);
  // Every rule has every field, in one order: one hidden class keeps evaluate's property reads monomorphic.
  return Object.freeze({
    name: rule.name,
    effect: rule.effect,
    reason: rule.reason,
    maxLifetimeSeconds: rule.maxLifetimeSeconds,
    profiles: list(rule.profiles),
    principals: list(rule.principals),
    accounts: list(rule.accounts),
    organizations: list(rule.organizations),
    users: list(rule.users),
    time: rule.time === undefined ? undefined : Object.freeze(compileTime(rule.time)),
    decision,
  });
};

/** `rules[3] (prod-hours).time.timezone`: the rule's name next to its index, for people. */
const whereOf = (path: readonly PropertyKey[], input: unknown): string => {
  if (path.length === 0) return '(document)';
  let where = '';
  let node: unknown = input;
  path.forEach((key, depth) => {
    const name =
      typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    if (typeof key === 'number') where += `[${key}]`;
    else where += `${where === '' ? '' : '.'}${String(key)}`;
    if (depth === 1 && path[0] === 'rules' && typeof name === 'object' && name !== null) {
      const ruleName = (name as Record<string, unknown>).name;
      if (typeof ruleName === 'string') where += ` (${JSON.stringify(ruleName.slice(0, 64))})`;
    }
    node = name;
  });
  return where;
};

const allowedAt = (path: readonly PropertyKey[]): readonly string[] | undefined => {
  if (path.length === 0) return ALLOWED_KEYS.document;
  if (path.length === 2 && path[0] === 'rules') return ALLOWED_KEYS.rule;
  if (path.length === 3 && path[0] === 'rules' && path[2] === 'time') return ALLOWED_KEYS.time;
  return undefined;
};

const problemsOf = (error: z.core.$ZodError, input: unknown): string[] =>
  error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedAt(issue.path);
      return issue.keys.map(
        (key) =>
          `${whereOf([...issue.path, key], input)}: unknown field` +
          (allowed === undefined ? '' : ` (allowed: ${allowed.join(', ')})`),
      );
    }
    if (issue.path.length === 0 && issue.code === 'invalid_type') {
      return ['(document): expected a mapping with version, rules and admins'];
    }
    return [`${whereOf(issue.path, input)}: ${issue.message}`];
  });

/** Index entries (profiles × rules) above which evaluate walks every rule instead. */
const PROFILE_INDEX_MAX_ENTRIES = 250_000;

/**
 * Which rules each literally named profile can match, worked out once: a rule's profile condition is
 * tested against each name here, so a request for one of them skips every rule naming other profiles.
 */
const indexByProfile = (
  rules: readonly PolicyRule[],
): Pick<AccessPolicy, 'rulesByProfile' | 'rulesForOtherProfiles'> => {
  const named = new Set(rules.flatMap((rule) => rule.profiles?.patterns.filter(isLiteral) ?? []));
  const rulesForOtherProfiles = Object.freeze(
    rules.filter((rule) => rule.profiles === undefined || rule.profiles.patterns.some((p) => !isLiteral(p))),
  );
  if (named.size * rules.length > PROFILE_INDEX_MAX_ENTRIES) {
    return { rulesByProfile: new Map(), rulesForOtherProfiles: rules };
  }
  const rulesByProfile = new Map<string, readonly PolicyRule[]>();
  for (const profile of named) {
    const matching = rules.filter((rule) => rule.profiles === undefined || matchList(rule.profiles, profile));
    rulesByProfile.set(profile, Object.freeze(matching));
  }
  return { rulesByProfile, rulesForOtherProfiles };
};

/** A policy from an already-decoded value (e.g. JSON from configuration); throws PolicyDocumentError. */
export const parsePolicy = (value: unknown, source?: string): AccessPolicy => {
  const result = documentSchema.safeParse(value);
  if (!result.success) throw new PolicyDocumentError(problemsOf(result.error, value), source);
  const document = result.data;
  const rules = Object.freeze(document.rules.map((rule) => compileRule(rule, document.version)));
  return Object.freeze({
    version: document.version,
    rules,
    ...indexByProfile(rules),
    admins: compilePatternList(document.admins),
    identityRoles: Object.freeze([...(document.identityRoles ?? [])]),
    defaultDecision: Object.freeze({
      effect: 'deny',
      rule: undefined,
      reason: DEFAULT_DENY_REASON,
      policyVersion: document.version,
    }),
  });
};

/**
 * A policy from JSON text. A bundle that only loads JSON (a Lambda) imports this module alone; YAML comes
 * with access-policy-yaml.ts, which adds the YAML parser to whatever imports it.
 */
export const parsePolicyJson = (text: string, source?: string): AccessPolicy => {
  if (text.length > POLICY_DOCUMENT_MAX_CHARS) {
    throw new PolicyDocumentError(
      [`the document is longer than ${POLICY_DOCUMENT_MAX_CHARS} characters`],
      source,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PolicyDocumentError(
      [`JSON: ${error instanceof Error ? error.message : String(error)}`],
      source,
    );
  }
  return parsePolicy(value, source);
};
