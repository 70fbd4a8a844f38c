/**
 * Counterexamples the fuzz suite (test/reliability/fuzz.test.ts) found, shrunk and kept as plain tests so
 * each bug stays fixed whatever the generators later draw.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { PolicyDocumentError } from '../../src/domain/access-policy-document.js';
import { POLICY_MAX_NESTING, parsePolicyDocument } from '../../src/domain/access-policy-yaml.js';
import { createLifecycleConsumer } from '../../src/handlers/stream/consume.js';
import {
  eventOf,
  insertOf,
  RecordingPublisher,
  RecordingWorkflows,
  removeOf,
  sessionFixture,
  sessionIdFor,
  streamRecord,
} from '../support/consumer-fakes.js';

const problemsOf = (parse: () => unknown): readonly string[] => {
  try {
    parse();
  } catch (error) {
    if (error instanceof PolicyDocumentError) return error.problems;
    throw error;
  }
  throw new Error('the document was accepted');
};

describe('access policy YAML nested deeper than any policy', () => {
  // Shrunk: two documents `[[[…]]]` 1,000 levels deep. The first overflowed the YAML parser's stack (caught);
  // the second then killed the whole process with "RegExpCompiler Allocation failed - process out of memory",
  // so the local stack, which re-reads local/policy.yaml every 5 s, died.
  it.each([
    ['flow sequences', `${'['.repeat(1_000)}${']'.repeat(1_000)}`],
    ['flow mappings', `${'{"a":'.repeat(1_000)}1${'}'.repeat(1_000)}`],
    ['compact block sequences', `${'- '.repeat(1_000)}x`],
    ['indented block mappings', Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')],
  ])('refuses %s before the parser sees them, however often', (_shape, text) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [problem] = problemsOf(() => parsePolicyDocument(text));
      expect(problem).toMatch(new RegExp(`levels deep; a policy needs at most ${POLICY_MAX_NESTING}$`));
    }
  });

  it('still reads a policy, brackets inside quoted text and comments not counted', () => {
    const policy = parsePolicyDocument(
      [
        'version: 1   # [[[[ not nesting',
        'admins: []',
        'rules:',
        `  - {name: a, effect: deny, reason: "${'['.repeat(100)}", users: [carol], accounts: ['111122223333']}`,
        `  - name: b`,
        '    effect: allow',
        `    reason: 'it''s ${'{'.repeat(100)}'`,
      ].join('\n'),
    );
    expect(policy.rules.map((rule) => rule.name)).toEqual(['a', 'b']);
  });
});

const consumer = () => {
  const workflows = new RecordingWorkflows();
  const publisher = new RecordingPublisher();
  const consume = createLifecycleConsumer({ workflows, events: publisher, clock: new ManualClock() });
  return { consume, workflows, publisher };
};

describe('lifecycle consumer: records that cannot be tied to a session', () => {
  // Shrunk: [an INSERT whose Keys.sessionId is "x/../y", a well-formed INSERT]. Both were acted on: a
  // lifecycle execution named "x/../y" and a SessionStateChanged whose sessionId breaks the event contract.
  it('fails a record whose key is no session id, and acts only on the well-formed one beside it', async () => {
    const { consume, workflows, publisher } = consumer();
    const good = sessionFixture({ sessionId: sessionIdFor(1) });
    const forged = streamRecord({
      eventName: 'INSERT',
      sessionId: 'x/../y',
      newImage: { ...sessionFixture({ sessionId: sessionIdFor(2) }), sessionId: 'x/../y' },
    });

    const response = await consume(eventOf(forged, insertOf(good)));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: forged.dynamodb?.SequenceNumber }]);
    expect(workflows.calls.map((call) => `${call.kind}:${call.name}`)).toEqual([
      `startLifecycle:${good.sessionId}`,
    ]);
    expect(publisher.summary()).toEqual([`SessionStateChanged:${good.sessionId}:null>active`]);
  });

  // Shrunk: [a REMOVE with no dynamodb section, a well-formed REMOVE]. The first failed, but Powertools names
  // failures by SequenceNumber and left it out: the batch answered `batchItemFailures: []`, so Lambda would
  // have counted the failed record as done (invariant 7).
  it.each([
    [
      'no dynamodb section',
      (record: DynamoDBRecord) => void delete (record as { dynamodb?: unknown }).dynamodb,
    ],
    [
      'no key and no SequenceNumber',
      (record: DynamoDBRecord) => {
        delete record.dynamodb?.Keys;
        delete record.dynamodb?.SequenceNumber;
      },
    ],
  ])('fails the whole batch when a failed record has %s, so it is retried', async (_what, breakIt) => {
    const { consume, publisher } = consumer();
    const broken = removeOf(sessionFixture({ sessionId: sessionIdFor(3) }), false);
    breakIt(broken);
    const good = removeOf(sessionFixture({ sessionId: sessionIdFor(4) }), false);

    await expect(consume(eventOf(broken, good))).rejects.toThrow(/without a SequenceNumber/);
    // The good record was handled (its retry is deduplicated on its eventID); the broken one did nothing.
    expect(publisher.summary()).toEqual([`SessionPurged:${sessionIdFor(4)}`]);
  });
});
