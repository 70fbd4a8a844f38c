/**
 * Starts DynamoDB Local (real engine, in memory, free port) once for the integration project and always
 * stops it. Tests read the endpoint with `inject('dynamoEndpoint')`.
 */
import type { TestProject } from 'vitest/node';
import { type RunningDynamoDb, startDynamoDbLocal } from '../../local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

let running: RunningDynamoDb | undefined;

export async function setup(project: TestProject): Promise<void> {
  running = await startDynamoDbLocal();
  project.provide('dynamoEndpoint', running.endpoint);
}

export async function teardown(): Promise<void> {
  await running?.stop();
}
