/**
 * The local EventBridge bus (docs/design.md, "The local stack"): an EventPublisher that wraps each event in the envelope EventBridge
 * delivers, keeps what it accepted, and hands every envelope to the targets of each rule whose pattern
 * matches — with template.yaml's own patterns, evaluated as EventBridge evaluates them.
 *
 * Unlike EventBridge, delivery happens before publish() resolves, so a test can assert right after it.
 * A target that throws does not fail the publish (EventBridge would retry, then dead-letter it): the
 * failure is recorded in `deliveryFailures`.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { Clock } from '../src/domain/clock.js';
import { EVENT_SOURCE } from '../src/domain/events.js';
import { isRecord } from '../src/domain/json.js';
import type { DomainEvent, EventPublisher, PublishResult } from '../src/ports.js';
import { type CompiledEventPattern, compileEventPattern } from './event-pattern.js';
import type { Template } from './template.js';

/** What a rule target receives from EventBridge. */
export interface EventEnvelope<TDetail = unknown> {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: TDetail;
}

export interface LocalRule {
  readonly name: string;
  /** An object, or the JSON text PutRule and CloudFormation accept. */
  readonly eventPattern: unknown;
  /** Bus the rule is attached to; rules of other buses are ignored by a bus. */
  readonly eventBusName?: string;
  readonly state?: 'ENABLED' | 'DISABLED';
  /** Target ids declared in the template, so the local stack can plug a function in for each. */
  readonly targetIds?: readonly string[];
}

export type LocalTarget = (event: EventEnvelope) => void | Promise<void>;

export interface Delivery {
  readonly rule: string;
  readonly targetId: string;
  readonly event: EventEnvelope;
}

export interface DeliveryFailure extends Delivery {
  readonly error: unknown;
}

/** Decides, per entry, whether PutEvents rejects it and with which ErrorCode (undefined: accepted). */
export type EntryFailureInjector = (event: DomainEvent, index: number) => string | undefined;

export class UnknownRuleError extends Error {
  readonly code = 'ResourceNotFoundException';
  constructor(rule: string, bus: string) {
    super(`Rule ${rule} does not exist on EventBus ${bus}.`);
    this.name = 'UnknownRuleError';
  }
}

export interface LocalEventBusOptions {
  readonly busName?: string;
  readonly region?: string;
  readonly account?: string;
  readonly clock?: Clock;
  readonly newId?: () => string;
  readonly rules?: readonly LocalRule[];
}

interface RegisteredRule {
  readonly rule: LocalRule;
  readonly pattern: CompiledEventPattern;
  readonly targets: Map<string, LocalTarget>;
}

/** EventBridge stamps `time` to the second. */
const envelopeTime = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class LocalEventBus implements EventPublisher {
  readonly busName: string;
  readonly region: string;
  readonly account: string;
  /** Every envelope the bus accepted, in publish order. */
  readonly events: EventEnvelope[] = [];
  readonly deliveries: Delivery[] = [];
  readonly deliveryFailures: DeliveryFailure[] = [];
  /** How many publish() calls the bus served and how many entries they carried (for batching checks). */
  readonly calls: number[] = [];

  readonly #rules = new Map<string, RegisteredRule>();
  readonly #clock: Clock;
  readonly #newId: () => string;
  #injector: EntryFailureInjector | undefined;

  constructor(options: LocalEventBusOptions = {}) {
    this.busName = options.busName ?? 'sentinel-sessions';
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#newId = options.newId ?? randomUUID;
    for (const rule of options.rules ?? []) this.addRule(rule);
  }

  /** Compiles the rule's pattern (InvalidEventPatternError if EventBridge would refuse it). Rules of another bus are skipped. */
  addRule(rule: LocalRule): this {
    if (rule.eventBusName !== undefined && rule.eventBusName !== this.busName) return this;
    this.#rules.set(rule.name, { rule, pattern: compileEventPattern(rule.eventPattern), targets: new Map() });
    return this;
  }

  get ruleNames(): string[] {
    return [...this.#rules.keys()];
  }

  addTarget(
    ruleName: string,
    target: LocalTarget,
    targetId = `target-${this.#ruleOf(ruleName).targets.size + 1}`,
  ): this {
    this.#ruleOf(ruleName).targets.set(targetId, target);
    return this;
  }

  /** Every later entry for which `injector` returns an ErrorCode is rejected, as a partial PutEvents failure. */
  injectFailures(injector: EntryFailureInjector | undefined): this {
    this.#injector = injector;
    return this;
  }

  /** Rejects the next `count` entries with `errorCode`, then accepts again. */
  failNextEntries(count: number, errorCode = 'InternalFailure'): this {
    let left = count;
    return this.injectFailures(() => {
      if (left <= 0) return undefined;
      left--;
      return errorCode;
    });
  }

  /** Names of the enabled rules whose pattern matches this envelope. */
  matchingRules(event: EventEnvelope): string[] {
    return [...this.#rules.values()]
      .filter(({ rule, pattern }) => rule.state !== 'DISABLED' && pattern.matches(event))
      .map(({ rule }) => rule.name);
  }

  envelopeOf(event: DomainEvent): EventEnvelope {
    return {
      version: '0',
      id: this.#newId(),
      'detail-type': event.detailType,
      source: EVENT_SOURCE,
      account: this.account,
      time: envelopeTime(this.#clock.now()),
      region: this.region,
      resources: [],
      // A copy, as EventBridge serialises it: later mutation by the publisher cannot change what was sent.
      detail: JSON.parse(JSON.stringify(event.detail)) as unknown,
    };
  }

  async publish(events: readonly DomainEvent[]): Promise<PublishResult> {
    this.calls.push(events.length);
    const failed: { event: DomainEvent; errorCode: string }[] = [];
    const accepted: EventEnvelope[] = [];
    events.forEach((event, index) => {
      const errorCode = this.#injector?.(event, index);
      if (errorCode) failed.push({ event, errorCode });
      else accepted.push(this.envelopeOf(event));
    });
    this.events.push(...accepted);
    for (const envelope of accepted) await this.#deliver(envelope);
    return { failed };
  }

  /** Accepted envelopes of one detail-type, detail typed by the caller. */
  eventsOf<TDetail = Record<string, unknown>>(detailType: string): EventEnvelope<TDetail>[] {
    return this.events.filter((e) => e['detail-type'] === detailType) as EventEnvelope<TDetail>[];
  }

  clear(): void {
    this.events.length = 0;
    this.deliveries.length = 0;
    this.deliveryFailures.length = 0;
    this.calls.length = 0;
  }

  async #deliver(event: EventEnvelope): Promise<void> {
    for (const name of this.matchingRules(event)) {
      for (const [targetId, target] of this.#ruleOf(name).targets) {
        try {
          await target(event);
          this.deliveries.push({ rule: name, targetId, event });
        } catch (error) {
          this.deliveryFailures.push({ rule: name, targetId, event, error });
        }
      }
    }
  }

  #ruleOf(name: string): RegisteredRule {
    const registered = this.#rules.get(name);
    if (!registered) throw new UnknownRuleError(name, this.busName);
    return registered;
  }
}

// ------------------------------------------------------------------------------------------- template rules

export interface TemplateContext {
  /** Parameter values; defaults come from the template's Parameters. */
  readonly parameters?: Readonly<Record<string, string>>;
  readonly region?: string;
  readonly account?: string;
}

/**
 * Resolves the intrinsics a rule's EventBusName or EventPattern may use: Ref to a parameter, a pseudo
 * parameter or an event bus (its Name), and Fn::Sub over those. Anything else is left as it is.
 */
const resolver = (template: Template, context: TemplateContext) => {
  const parameters: Record<string, string> = {
    'AWS::Region': context.region ?? 'us-east-1',
    'AWS::AccountId': context.account ?? '000000000000',
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  for (const [name, definition] of Object.entries(template.Parameters ?? {})) {
    if (definition.Default !== undefined) parameters[name] = String(definition.Default);
  }
  Object.assign(parameters, context.parameters);

  const refOf = (name: string): string | undefined => {
    if (name in parameters) return parameters[name];
    const resource = template.Resources[name];
    if (resource?.Type === 'AWS::Events::EventBus') {
      const busName = resolve(resource.Properties?.Name);
      return typeof busName === 'string' ? busName : name;
    }
    return undefined;
  };

  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value.Ref === 'string') return refOf(value.Ref) ?? value;
    if (keys.length === 1 && typeof value['Fn::Sub'] === 'string') {
      return value['Fn::Sub'].replace(/\$\{([^}!][^}]*)\}/g, (whole, name: string) => refOf(name) ?? whole);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
};

/** Every AWS::Events::Rule with an EventPattern in the template, as LocalRules named by logical id. */
export const rulesFromTemplate = (template: Template, context: TemplateContext = {}): LocalRule[] => {
  const resolve = resolver(template, context);
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Events::Rule' && resource.Properties?.EventPattern)
    .map(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      const bus = resolve(props.EventBusName);
      const targets = Array.isArray(props.Targets) ? props.Targets : [];
      return {
        name: logicalId,
        eventPattern: resolve(props.EventPattern),
        // A rule without EventBusName is on the account's default bus.
        eventBusName: typeof bus === 'string' ? bus : 'default',
        state: props.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
        targetIds: targets.flatMap((t) => (isRecord(t) && typeof t.Id === 'string' ? [t.Id] : [])),
      };
    });
};

/** A target that appends each envelope as one JSON line (the local stand-in for the audit log group). */
export const jsonLinesFileTarget =
  (path: string): LocalTarget =>
  async (event) => {
    await appendFile(path, `${JSON.stringify(event)}\n`, 'utf8');
  };
