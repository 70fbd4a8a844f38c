import { afterEach, describe, expect, it } from 'vitest';
import { assertJava, JavaMissingError } from '../../local/dynamodb-local.js';

describe('assertJava', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('names the Java version it found', () => {
    expect(assertJava()).toMatch(/version/);
  });

  it('says plainly that DynamoDB Local needs Java, and how to get it, when java is not on PATH', () => {
    // Prepare
    process.env.PATH = '/nonexistent';
    // Act / Assess
    expect(() => assertJava()).toThrow(JavaMissingError);
    expect(() => assertJava()).toThrow(/needs Java 17 or newer.*openjdk-17-jre-headless/s);
  });
});
