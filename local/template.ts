/**
 * Reads template.yaml — the product's contract — so the local stack and the tests build exactly what
 * SAM would deploy. CloudFormation short-form tags (!Ref, !Sub, !GetAtt …) become their long forms.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type CollectionTag, parse, type ScalarTag } from 'yaml';

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
