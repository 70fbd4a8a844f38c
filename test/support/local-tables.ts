import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, inject } from 'vitest';
import { createTemplateTables, localClientConfig, type TemplateTable } from '../../local/dynamodb-local.js';

export interface LocalTables {
  readonly endpoint: string;
  readonly names: Record<TemplateTable, string>;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
}

/**
 * Fresh tables from template.yaml for one test file, under a random prefix so files never share state.
 * Use the returned object's fields inside tests (they are filled in beforeAll).
 */
export const useLocalTables = (): LocalTables => {
  const tables = {} as { -readonly [K in keyof LocalTables]: LocalTables[K] };
  beforeAll(async () => {
    const endpoint = inject('dynamoEndpoint');
    tables.endpoint = endpoint;
    tables.names = await createTemplateTables(endpoint, { prefix: `t${randomBytes(4).toString('hex')}` });
    tables.client = new DynamoDBClient(localClientConfig(endpoint));
    tables.documentClient = DynamoDBDocumentClient.from(tables.client);
    return () => tables.client.destroy();
  });
  return tables;
};
