/**
 * The one price table and the one quota table of the cost and capacity model (bench/suites/cost.ts).
 * Prices: AWS list prices, us-east-1, on demand, no free tier, as read in November 2026. Quotas: default
 * account quotas in us-east-1 as read then; where AWS publishes no figure, the value is an assumption and
 * says so. Check both before relying on the result.
 */
export const PRICES_AS_OF = '2026-11, us-east-1, list prices, no free tier';

export const PRICES = {
  /** Step Functions Standard, per state transition ($0.025 per 1,000). */
  standardTransition: 0.025 / 1000,
  /** Step Functions Express, per request. */
  expressRequest: 1.0 / 1e6,
  /** Step Functions Express, per GB-second (64 MB minimum billed). */
  expressGbSecond: 0.00001667,
  /** DynamoDB on-demand, per write request unit. */
  dynamoWru: 0.625 / 1e6,
  /** DynamoDB on-demand, per read request unit. */
  dynamoRru: 0.125 / 1e6,
  /** EventBridge custom events, per entry (up to 64 KB). */
  putEventsEntry: 1.0 / 1e6,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecondArm: 0.0000133334,
  /** API Gateway HTTP API, per request. */
  httpApiRequest: 1.0 / 1e6,
  /** SNS, per publish (64 KB chunk). */
  snsPublish: 0.5 / 1e6,
  /** EventBridge Scheduler, per invocation. */
  schedulerInvocation: 1.0 / 1e6,
} as const;

/** Lambda durations are not measured here (DynamoDB Local latency is not AWS's): assumed, per invocation. */
export const ASSUMED_LAMBDA = {
  memoryGb: 0.5,
  vendSeconds: 0.15,
  consumerSeconds: 0.2,
  enforcerSeconds: 0.3,
} as const;

export interface Quota {
  readonly name: string;
  /** Sustained rate per second, or a count for open executions. */
  readonly value: number;
  readonly unit: string;
  /** True where AWS publishes no default and the figure is ours. */
  readonly assumption: boolean;
}

export const QUOTAS_AS_OF = '2026-11, us-east-1, default account quotas';

export const QUOTAS = {
  standardStartExecution: {
    name: 'Standard StartExecution refill',
    value: 300,
    unit: '/s',
    assumption: false,
  },
  standardStopExecution: { name: 'Standard StopExecution refill', value: 200, unit: '/s', assumption: false },
  standardTransitions: {
    name: 'Standard state transitions refill',
    value: 5000,
    unit: '/s',
    assumption: false,
  },
  openExecutions: {
    name: 'Standard open executions',
    value: 1_000_000,
    unit: 'executions',
    assumption: false,
  },
  expressStartExecution: {
    name: 'Express StartExecution refill',
    value: 6000,
    unit: '/s',
    assumption: false,
  },
  putEvents: { name: 'EventBridge PutEvents requests', value: 10_000, unit: '/s', assumption: false },
  dynamoTableWrites: { name: 'DynamoDB on-demand table WRU', value: 40_000, unit: '/s', assumption: false },
  dynamoTableReads: { name: 'DynamoDB on-demand table RRU', value: 40_000, unit: '/s', assumption: false },
  dynamoPartitionWrites: { name: 'DynamoDB per-partition WRU', value: 1000, unit: '/s', assumption: false },
  lambdaConcurrency: {
    name: 'Lambda concurrent executions',
    value: 1000,
    unit: 'concurrent',
    assumption: false,
  },
  httpApi: { name: 'HTTP API requests', value: 10_000, unit: '/s', assumption: false },
  sts: {
    name: 'STS AssumeRole (no published quota: assumed)',
    value: 600,
    unit: '/s',
    assumption: true,
  },
} as const satisfies Record<string, Quota>;
