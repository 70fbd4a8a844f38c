/**
 * A DynamoDB Local of its own with the template's tables, and the real session store on it, for as long as
 * `run` takes: the benches that measure the store's own writes start from here.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTemplateTables, localClientConfig, startDynamoDbLocal } from '../local/dynamodb-local.js';
import { DynamoDbSessionStore } from '../src/adapters/dynamodb-session-store.js';

export const withTemplateSessionStore = async <T>(
  run: (store: DynamoDbSessionStore) => Promise<T>,
): Promise<T> => {
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient(localClientConfig(dynamo.endpoint));
  try {
    const names = await createTemplateTables(dynamo.endpoint, { prefix: 'bench' });
    return await run(
      new DynamoDbSessionStore({
        documentClient: DynamoDBDocumentClient.from(client),
        tableName: names.SessionsTable,
      }),
    );
  } finally {
    client.destroy();
    await dynamo.stop();
  }
};
