import { randomBytes } from 'node:crypto';

/** 128 random bits as 32 lowercase hex characters. */
export const SESSION_ID_PATTERN = /^[0-9a-f]{32}$/;

export interface IdGenerator {
  sessionId(): string;
}

export const randomIds: IdGenerator = {
  sessionId: () => randomBytes(16).toString('hex'),
};

export const isSessionId = (value: unknown): value is string =>
  typeof value === 'string' && SESSION_ID_PATTERN.test(value);
