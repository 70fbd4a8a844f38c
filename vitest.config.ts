import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          // test/local checks the local stack (the emulator behind `npm start`), which needs DynamoDB Local too.
          include: ['test/integration/**/*.test.ts', 'test/local/**/*.test.ts'],
          environment: 'node',
          // One DynamoDB Local for the whole run; each test file creates its own tables in it.
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // The composed pipeline under injected faults, races, generated hostile input, and the secrets scan
          // over what they produce (docs/design.md, "Tests").
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
