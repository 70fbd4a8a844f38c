/**
 * The demo's evidence checks, kept pure so test/local/demo.test.ts can run them against broken inputs: the
 * shapes Slack and Teams accept, the audit log's "each event once", and the redaction of issued secrets.
 * A failed check throws StepFailure with a sentence the demo prints as the step's reason.
 */
import type { EventEnvelope } from '../../local/event-bus.js';
import { isRecord } from '../../src/domain/json.js';

export class StepFailure extends Error {
  override readonly name = 'StepFailure';
}

type Json = Record<string, unknown>;

const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** The block types the fan-out sends (Slack's Block Kit reference: header, section, context, divider). */
const SLACK_BLOCK_TYPES = ['header', 'section', 'context', 'divider'];

/** A Slack incoming-webhook body with Block Kit blocks; returns a one-line description of it. */
export const describeSlackMessage = (body: unknown): string => {
  if (!isRecord(body)) throw new StepFailure(`the Slack post is not a JSON object: ${JSON.stringify(body)}`);
  if (typeof body.text !== 'string' || body.text === '')
    throw new StepFailure('the Slack post has no `text` (the notification fallback)');
  const blocks = body.blocks;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 50)
    throw new StepFailure('the Slack post has no Block Kit `blocks` (1-50 expected)');
  const types = blocks.map((block: unknown) => (isRecord(block) ? block.type : undefined));
  const unknown = types.filter((type) => typeof type !== 'string' || !SLACK_BLOCK_TYPES.includes(type));
  if (unknown.length > 0)
    throw new StepFailure(`the Slack post has blocks of unknown type ${String(unknown)}`);
  return `Block Kit, ${counted(blocks.length, 'block')} (${types.join(', ')}), text "${body.text}"`;
};

const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** A Teams Workflows webhook body carrying one Adaptive Card; returns a one-line description of it. */
export const describeTeamsMessage = (body: unknown): string => {
  if (!isRecord(body) || body.type !== 'message')
    throw new StepFailure('the Teams post is not a `{"type":"message"}` object');
  const attachments = body.attachments;
  const [attachment] = Array.isArray(attachments) ? attachments : [];
  if (!isRecord(attachment) || attachment.contentType !== ADAPTIVE_CARD_CONTENT_TYPE)
    throw new StepFailure(`the Teams post has no attachment of contentType ${ADAPTIVE_CARD_CONTENT_TYPE}`);
  const card = attachment.content;
  if (!isRecord(card) || card.type !== 'AdaptiveCard')
    throw new StepFailure('the Teams attachment is not an AdaptiveCard');
  if (!/^1\.[0-5]$/.test(String(card.version)))
    throw new StepFailure(`the Adaptive Card's version ${String(card.version)} is not one Teams renders`);
  if (!Array.isArray(card.body) || card.body.length === 0)
    throw new StepFailure('the Adaptive Card has no body elements');
  const types = card.body.map((element: unknown) => (isRecord(element) ? String(element.type) : '?'));
  return `Adaptive Card ${String(card.version)}, ${counted(types.length, 'element')} (${types.join(', ')})`;
};

/** Whose events an audit check covers: a person and the session the demo gave them (none for a refusal). */
export interface AuditSubject {
  readonly name: string;
  readonly user: string;
  readonly sessionId: string | null;
  /** The detail-types this person's story must leave in the log, each with how many times. */
  readonly expected: Readonly<Record<string, number>>;
}

/** What each person's story leaves in the audit log: detail-type → how many times. */
export const STORY_AUDIT = {
  alice: {
    SessionCreated: 1,
    SessionTouched: 1,
    SessionStateChanged: 2,
    SessionRevoked: 1,
    // One per channel (sns, slack, teams), delivered or not.
    RevocationNotified: 3,
  },
  bob: { SessionCreated: 1, SessionStateChanged: 2, SessionExpired: 1 },
  carol: { VendDenied: 1 },
} as const satisfies Record<string, Readonly<Record<string, number>>>;

const detailOf = (event: EventEnvelope): Json => (isRecord(event.detail) ? event.detail : {});

/**
 * What makes two events the same fact: a session has two SessionStateChanged (to active, then to its end) and
 * one RevocationNotified per channel; every other detail-type happens at most once per session.
 */
const factOf = (event: EventEnvelope): string => {
  const detail = detailOf(event);
  const facet =
    event['detail-type'] === 'SessionStateChanged'
      ? `→${String(detail.toStatus)}`
      : event['detail-type'] === 'RevocationNotified'
        ? `/${String(detail.channel)}`
        : '';
  return `${String(detail.sessionId)} ${event['detail-type']}${facet}`;
};

const belongsTo = (event: EventEnvelope, subject: AuditSubject): boolean => {
  const detail = detailOf(event);
  return subject.sessionId === null
    ? detail.sessionId === null && detail.user === subject.user
    : detail.sessionId === subject.sessionId;
};

/**
 * Checks the audit log (its events, in file order) against what the bus published: every published event of
 * the subjects is in the log exactly once (by event id), no fact is recorded twice under two ids, and each
 * subject has exactly the detail-types its story expects. Returns one line per subject with its counts.
 */
export const checkAuditOnce = (
  audited: readonly EventEnvelope[],
  published: readonly EventEnvelope[],
  subjects: readonly AuditSubject[],
): string[] => {
  const problems: string[] = [];
  const lines: string[] = [];
  for (const subject of subjects) {
    const mine = audited.filter((event) => belongsTo(event, subject));
    const ids = new Map<string, number>();
    const facts = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const event of mine) {
      ids.set(event.id, (ids.get(event.id) ?? 0) + 1);
      facts.set(factOf(event), (facts.get(factOf(event)) ?? 0) + 1);
      counts.set(event['detail-type'], (counts.get(event['detail-type']) ?? 0) + 1);
    }
    for (const [id, n] of ids)
      if (n > 1) problems.push(`${subject.name}: event ${id} is in the log ${n} times`);
    for (const [fact, n] of facts) if (n > 1) problems.push(`${subject.name}: ${fact} recorded ${n} times`);
    for (const event of published.filter((e) => belongsTo(e, subject))) {
      if (!ids.has(event.id))
        problems.push(`${subject.name}: published ${event['detail-type']} ${event.id} is not in the log`);
    }
    for (const type of new Set([...Object.keys(subject.expected), ...counts.keys()])) {
      const want = subject.expected[type] ?? 0;
      const got = counts.get(type) ?? 0;
      if (got !== want) problems.push(`${subject.name}: ${type} ×${got}, expected ×${want}`);
    }
    const label = subject.sessionId === null ? `${subject.name} (no session)` : subject.name;
    lines.push(`${label}: ${[...counts].map(([type, n]) => `${type}×${n}`).join(' ') || 'nothing'}`);
  }
  if (problems.length > 0) throw new StepFailure(problems.join('; '));
  return lines;
};

/** Credentials the demo was issued; only their secret parts are redacted (ids and expiries are not secret). */
export interface IssuedSecrets {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** `text` with every issued secret access key and session token replaced by [redacted]. */
export const redactSecrets = (text: string, issued: Iterable<IssuedSecrets>): string => {
  let redacted = text;
  for (const credentials of issued) {
    for (const secret of [credentials.secretAccessKey, credentials.sessionToken]) {
      if (secret.length > 0) redacted = redacted.replaceAll(secret, '[redacted]');
    }
  }
  return redacted;
};
