import { describe, expect, it } from 'vitest';
import { isSessionId, randomIds, SESSION_ID_PATTERN } from '../../../src/domain/ids.js';

describe('randomIds.sessionId', () => {
  it('is 32 lowercase hex characters (128 bits)', () => {
    // Act
    const id = randomIds.sessionId();
    // Assess
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.from(id, 'hex')).toHaveLength(16);
    expect(isSessionId(id)).toBe(true);
  });

  it('gives 10,000 distinct, well-formed ids', () => {
    // Act
    const ids = Array.from({ length: 10_000 }, () => randomIds.sessionId());
    // Assess
    expect(new Set(ids).size).toBe(10_000);
    expect(ids.filter((id) => !SESSION_ID_PATTERN.test(id))).toEqual([]);
  });

  it('uses every bit position: each hex digit takes many values across 10,000 ids', () => {
    // Prepare
    const ids = Array.from({ length: 10_000 }, () => randomIds.sessionId());
    // Act
    const valuesPerPosition = Array.from({ length: 32 }, (_, i) => new Set(ids.map((id) => id[i])).size);
    // Assess: a constant or low-entropy position (e.g. a timestamp prefix or a version nibble) would show here.
    expect(valuesPerPosition.every((count) => count === 16)).toBe(true);
  });
});

describe('isSessionId', () => {
  it.each([
    ['32 lowercase hex', '0123456789abcdef0123456789abcdef', true],
    ['all zeros', '0'.repeat(32), true],
    ['uppercase hex', '0123456789ABCDEF0123456789ABCDEF', false],
    ['one uppercase letter', '0123456789abcdeF0123456789abcdef', false],
    ['31 characters (short)', 'a'.repeat(31), false],
    ['33 characters (long)', 'a'.repeat(33), false],
    ['64 characters', 'a'.repeat(64), false],
    ['non-hex letter', `${'a'.repeat(31)}g`, false],
    ['a UUID with dashes', '01234567-89ab-cdef-0123-456789abcdef', false],
    ['a ULID', '01ARZ3NDEKTSV4RRFFQ69G5FAV', false],
    ['leading space', ` ${'a'.repeat(31)}`, false],
    ['trailing newline', `${'a'.repeat(32)}\n`, false],
    ['fullwidth digits', '０'.repeat(32), false],
    ['empty string', '', false],
    ['a number', 12_345, false],
    ['undefined', undefined, false],
    ['null', null, false],
    ['an object', { sessionId: 'a'.repeat(32) }, false],
    ['an array of the right string', ['a'.repeat(32)], false],
  ] as const)('%s → %s', (_label, value, expected) => {
    // Act / Assess
    expect(isSessionId(value)).toBe(expected);
  });
});
