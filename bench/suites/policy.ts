/**
 * policy: the access policy on the vend path.
 *
 * - policy.evaluate_us_p50 / _p95: one evaluate of a 200-rule policy whose only matching rule is the last,
 *   so every rule is tried. The rules mix profile, principal, account and user globs, and eight of them
 *   match everything but a time window in one of four zones. The request time moves one second per call,
 *   as in a warm Lambda: each zone's wall clock is formatted afresh every 15 minutes of request time.
 * - policy.evaluate_cold_clock_us_p50 (no target): the same with the time moving 15 minutes per call, so
 *   every call formats every zone's clock (the first request of each quarter hour pays this).
 * - policy.parse_ms: parsing and compiling that policy from YAML text, once.
 */
import { type AccessRequest, evaluate } from '../../src/domain/access-policy.js';
import { parsePolicyDocument } from '../../src/domain/access-policy-yaml.js';
import { type Metrics, percentile, type Suite } from '../harness.js';

const RULES = 200;
const SAMPLES = 400;
const COLD_SAMPLES = 6;
const CALLS_PER_SAMPLE = 50;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'];

const rule = (i: number): Record<string, unknown> => {
  const name = `rule-${i}`;
  if (i % 25 === 0) {
    // Matches the request in everything but time: Sunday 03:00-03:01, never during the run.
    const timezone = ZONES[(i / 25) % ZONES.length];
    return {
      name,
      effect: 'deny',
      profiles: ['target'],
      time: { days: ['sun'], hours: '03:00-03:01', timezone },
    };
  }
  switch (i % 4) {
    case 0:
      return { name, effect: 'allow', profiles: [`svc-${i}-*`, `batch-${i}`] };
    case 1:
      return {
        name,
        effect: 'allow',
        profiles: ['target'],
        principals: [`arn:aws:sts::*:assumed-role/Team${i}_*/*`],
      };
    case 2:
      return { name, effect: 'deny', profiles: ['target', 'other'], accounts: [String(100000000000 + i)] };
    default:
      return { name, effect: 'allow', profiles: ['tar*'], users: [`user-${i}`, `ops-${i}-*`] };
  }
};

const documentText = (): string =>
  JSON.stringify({
    version: 'bench-1',
    admins: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*'],
    rules: [
      ...Array.from({ length: RULES - 1 }, (_, i) => rule(i)),
      {
        name: 'the-match',
        effect: 'allow',
        profiles: ['target'],
        principals: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_*/*'],
        accounts: ['123456789012'],
        time: { hours: '00:00-24:00', timezone: 'Europe/Berlin' },
        maxLifetimeSeconds: 3600,
      },
    ],
  });

/**
 * Requests whose time starts at `from` and moves `stepMs` per call. The Sunday rules match from Saturday
 * 18:00 UTC (Tokyo) to Sunday 08:00 UTC (New York): the runs below stay on weekdays.
 */
const requests = (stepMs: number, from = '2026-03-02T00:00:00Z'): (() => AccessRequest) => {
  let at = Date.parse(from);
  return () => {
    at += stepMs;
    return {
      principalArn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice',
      accountId: '123456789012',
      user: 'alice',
      profile: 'target',
      at: new Date(at),
    };
  };
};

const suite: Suite = {
  name: 'policy',
  targets: [{ metric: 'policy.evaluate_us_p50', op: '<=', value: 50 }],
  async run(): Promise<Metrics> {
    const text = documentText();
    const parseStart = process.hrtime.bigint();
    const policy = parsePolicyDocument(text, 'bench policy');
    const parseMs = Number(process.hrtime.bigint() - parseStart) / 1e6;
    const check = evaluate(policy, requests(1000)());
    if (check.rule !== 'the-match') throw new Error(`bench policy answered ${JSON.stringify(check)}`);

    /** Microseconds per call, one sample per batch (the requests are built outside the timing). */
    const measure = (next: () => AccessRequest, samples: number, warmUp: number): number[] => {
      for (let i = 0; i < warmUp; i++) evaluate(policy, next()); // let the JIT settle
      const batch = Array.from({ length: CALLS_PER_SAMPLE }, next);
      const perCall: number[] = [];
      for (let s = 0; s < samples; s++) {
        for (let c = 0; c < CALLS_PER_SAMPLE; c++) batch[c] = next();
        const begin = process.hrtime.bigint();
        for (const request of batch) evaluate(policy, request);
        perCall.push(Number(process.hrtime.bigint() - begin) / 1e3 / CALLS_PER_SAMPLE);
      }
      return perCall;
    };
    // 1 s steps: about 6 hours of request time from Monday 00:00 UTC.
    const warm = measure(requests(1000), SAMPLES, 2000);
    // 15-minute steps: 350 calls span under 4 days, Monday to Thursday.
    const cold = measure(requests(15 * 60_000), COLD_SAMPLES, 0);
    return {
      'policy.evaluate_us_p50': percentile(warm, 50),
      'policy.evaluate_us_p95': percentile(warm, 95),
      'policy.evaluate_cold_clock_us_p50': percentile(cold, 50),
      'policy.parse_ms': parseMs,
    };
  },
};

export default suite;
