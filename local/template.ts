/**
 * Reads template.yaml — the product's contract — so the local stack and the tests build exactly what
 * SAM would deploy. CloudFormation short-form tags (!Ref, !Sub, !GetAtt …) become their long forms.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type CollectionTag, parse, type ScalarTag } from 'yaml';
import { type CompiledEventPattern, compileEventPattern } from './event-pattern.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_PATH = join(REPO_ROOT, 'template.yaml');

const FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'ToJsonString',
  'Length',
] as const;

const longForm = (name: string): string => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);

const cloudFormationTags = (): (ScalarTag | CollectionTag)[] => {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const name of ['Ref', 'Condition', ...FUNCTIONS]) {
    const key = longForm(name);
    tags.push({ tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) } as ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      } as CollectionTag);
    }
  }
  // !GetAtt Resource.Attribute is the one short form whose scalar is split.
  tags.push({
    tag: '!GetAtt',
    resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.', 2) }),
  } as ScalarTag);
  tags.push({
    tag: '!GetAtt',
    collection: 'seq',
    resolve: (value: { toJSON(): unknown }) => ({ 'Fn::GetAtt': value.toJSON() }),
  } as CollectionTag);
  return tags;
};

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface Template {
  readonly AWSTemplateFormatVersion?: string;
  readonly Transform?: string;
  readonly Parameters?: Record<string, Record<string, unknown>>;
  readonly Globals?: Record<string, Record<string, unknown>>;
  readonly Resources: Record<string, TemplateResource>;
  readonly Conditions?: Record<string, unknown>;
  readonly Outputs?: Record<string, Record<string, unknown>>;
}

export const parseTemplate = (text: string): Template => {
  const doc = parse(text, { customTags: cloudFormationTags(), maxAliasCount: -1 }) as unknown;
  if (typeof doc !== 'object' || doc === null || !('Resources' in doc)) {
    throw new Error('template has no Resources section');
  }
  return doc as Template;
};

let cached: Template | undefined;
export const loadTemplate = (path = TEMPLATE_PATH): Template => {
  if (path !== TEMPLATE_PATH) return parseTemplate(readFileSync(path, 'utf8'));
  cached ??= parseTemplate(readFileSync(path, 'utf8'));
  return cached;
};

export const resourceOf = (template: Template, logicalId: string, type?: string): TemplateResource => {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`template.yaml has no resource ${logicalId}`);
  if (type && resource.Type !== type) throw new Error(`${logicalId} is ${resource.Type}, expected ${type}`);
  return resource;
};

/** What CreateTable needs, from an AWS::DynamoDB::Table, plus the TTL attribute UpdateTimeToLive needs. */
export interface LocalTableDefinition {
  readonly create: CreateTableCommandInput;
  readonly ttlAttribute?: string;
}

export const tableDefinition = (
  template: Template,
  logicalId: string,
  tableName: string,
): LocalTableDefinition => {
  const props = resourceOf(template, logicalId, 'AWS::DynamoDB::Table').Properties ?? {};
  const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  const create = {
    TableName: tableName,
    BillingMode: props.BillingMode ?? 'PROVISIONED',
    AttributeDefinitions: props.AttributeDefinitions,
    KeySchema: props.KeySchema,
    ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes } : {}),
    ...(props.LocalSecondaryIndexes ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes } : {}),
    ...(props.ProvisionedThroughput ? { ProvisionedThroughput: props.ProvisionedThroughput } : {}),
    // CloudFormation's StreamSpecification has only the view type; the API also wants StreamEnabled.
    ...(stream?.StreamViewType
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } }
      : {}),
  } as CreateTableCommandInput;
  return {
    create,
    ...(ttl?.Enabled && ttl.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
  };
};

/** A DynamoDB event source mapping's settings, as the local stream poller applies them. */
export interface StreamEventSource {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly maxRetryAttempts: number;
  readonly bisectOnError: boolean;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** FilterCriteria.Filters[].Pattern, compiled; empty = every record. */
  readonly filters: readonly CompiledEventPattern[];
}

/**
 * The `Type: DynamoDB` event `eventName` of function `functionId`, read from the template so the local
 * stack batches, filters and retries exactly as the deployed event source mapping does.
 */
export const streamEventSourceOf = (
  template: Template,
  functionId: string,
  eventName: string,
): StreamEventSource => {
  const fn = resourceOf(template, functionId, 'AWS::Serverless::Function');
  const events = (fn.Properties?.Events ?? {}) as Record<string, { Type?: string; Properties?: unknown }>;
  const event = events[eventName];
  if (event?.Type !== 'DynamoDB') throw new Error(`${functionId} has no DynamoDB event ${eventName}`);
  const p = (event.Properties ?? {}) as Record<string, unknown>;
  const number = (key: string, fallback: number): number => {
    const value = p[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number') throw new Error(`${functionId}.${eventName}.${key} must be a number`);
    return value;
  };
  const criteria = (p.FilterCriteria ?? {}) as { Filters?: { Pattern?: unknown }[] };
  const filters = (criteria.Filters ?? []).map((filter, i) => {
    if (typeof filter.Pattern !== 'string') {
      throw new Error(
        `${functionId}.${eventName}.FilterCriteria.Filters[${i}].Pattern must be a JSON string`,
      );
    }
    return compileEventPattern(JSON.parse(filter.Pattern));
  });
  return {
    // Lambda's defaults for a DynamoDB stream.
    batchSize: number('BatchSize', 100),
    batchingWindowMs: number('MaximumBatchingWindowInSeconds', 0) * 1000,
    // -1 (the default) retries until the record expires from the stream.
    maxRetryAttempts: ((n) => (n < 0 ? Number.MAX_SAFE_INTEGER : n))(number('MaximumRetryAttempts', -1)),
    bisectOnError: p.BisectBatchOnFunctionError === true,
    startingPosition: p.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
    filters,
  };
};
