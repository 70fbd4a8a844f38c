/**
 * `npm start`: the pipeline on this machine, no AWS account and no Docker. Starts DynamoDB Local with
 * the template's tables and keeps it running until Ctrl-C.
 */
import { createTemplateTables, startDynamoDbLocal } from './dynamodb-local.js';

const main = async (): Promise<void> => {
  const dynamo = await startDynamoDbLocal({
    port: process.env.DYNAMODB_PORT ? Number(process.env.DYNAMODB_PORT) : undefined,
  });
  const tables = await createTemplateTables(dynamo.endpoint, { prefix: 'sentinel-local' });
  console.log('sentinel-sessions local stack is up');
  console.log(`  DynamoDB Local  ${dynamo.endpoint}  (in memory; region us-east-1, any credentials)`);
  for (const [logicalId, name] of Object.entries(tables)) console.log(`  ${logicalId.padEnd(16)} ${name}`);
  console.log('Ctrl-C to stop.');
  const shutdown = async (): Promise<void> => {
    await dynamo.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
