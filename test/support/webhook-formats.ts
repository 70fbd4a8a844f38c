/**
 * What Slack's incoming webhooks and Teams' Workflows webhooks document as a valid body, checked field by
 * field so a test fails with the rule that was broken. Slack (api.slack.com/reference/block-kit/blocks):
 * `text` is the notification fallback; at most 50 blocks; a header holds plain_text of at most 150
 * characters; a section holds a text object (≤ 3,000) and/or at most 10 field text objects (≤ 2,000 each);
 * a context holds 1–10 image or text elements; a text object is `plain_text` or `mrkdwn` with a string
 * `text`. Teams Workflows ("When a Teams webhook request is received"): `{type: "message", attachments:
 * [{contentType: "application/vnd.microsoft.card.adaptive", content: AdaptiveCard}]}`, the card having
 * `type: "AdaptiveCard"`, a `version` string (Teams renders up to 1.5), the schema URL and a `body` array of
 * elements each with a `type`.
 */
import { expect } from 'vitest';
import { isRecord } from '../../src/domain/json.js';

type Json = Record<string, unknown>;

const expectTextObject = (value: unknown, maxLength: number, where: string): void => {
  expect(isRecord(value), `${where} is a text object`).toBe(true);
  const text = value as Json;
  expect(['plain_text', 'mrkdwn'], `${where}.type`).toContain(text.type);
  expect(typeof text.text, `${where}.text is a string`).toBe('string');
  expect(String(text.text).length, `${where}.text length`).toBeGreaterThan(0);
  expect(String(text.text).length, `${where}.text length`).toBeLessThanOrEqual(maxLength);
  if (text.type === 'plain_text' && 'emoji' in text) expect(typeof text.emoji).toBe('boolean');
};

export const expectSlackBlockKitMessage = (body: unknown): void => {
  expect(isRecord(body), 'body is a JSON object').toBe(true);
  const message = body as Json;
  expect(typeof message.text, 'text (the notification fallback) is a string').toBe('string');
  expect(Array.isArray(message.blocks), 'blocks is an array').toBe(true);
  const blocks = message.blocks as unknown[];
  expect(blocks.length).toBeGreaterThan(0);
  expect(blocks.length).toBeLessThanOrEqual(50);
  blocks.forEach((block, i) => {
    const where = `blocks[${i}]`;
    expect(isRecord(block), `${where} is an object`).toBe(true);
    const b = block as Json;
    switch (b.type) {
      case 'header':
        expectTextObject(b.text, 150, `${where}.text`);
        expect((b.text as Json).type, `${where}: a header takes plain_text only`).toBe('plain_text');
        break;
      case 'section': {
        expect(b.text !== undefined || b.fields !== undefined, `${where} has text or fields`).toBe(true);
        if (b.text !== undefined) expectTextObject(b.text, 3000, `${where}.text`);
        if (b.fields !== undefined) {
          expect(Array.isArray(b.fields), `${where}.fields is an array`).toBe(true);
          const fields = b.fields as unknown[];
          expect(fields.length).toBeGreaterThan(0);
          expect(fields.length).toBeLessThanOrEqual(10);
          fields.forEach((f, j) => {
            expectTextObject(f, 2000, `${where}.fields[${j}]`);
          });
        }
        break;
      }
      case 'context': {
        expect(Array.isArray(b.elements), `${where}.elements is an array`).toBe(true);
        const elements = b.elements as unknown[];
        expect(elements.length).toBeGreaterThan(0);
        expect(elements.length).toBeLessThanOrEqual(10);
        elements.forEach((e, j) => {
          expectTextObject(e, 3000, `${where}.elements[${j}]`);
        });
        break;
      }
      case 'divider':
        break;
      default:
        throw new Error(`${where}: block type ${String(b.type)} is not one this project sends`);
    }
  });
};

const ADAPTIVE_CARD_ELEMENT_TYPES = ['TextBlock', 'FactSet', 'ColumnSet', 'Container', 'Image'];

export const expectAdaptiveCardMessage = (body: unknown): void => {
  expect(isRecord(body), 'body is a JSON object').toBe(true);
  const message = body as Json;
  expect(message.type).toBe('message');
  expect(Array.isArray(message.attachments), 'attachments is an array').toBe(true);
  const attachments = message.attachments as unknown[];
  expect(attachments).toHaveLength(1);
  const attachment = attachments[0] as Json;
  expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
  const card = attachment.content as Json;
  expect(isRecord(card), 'content is the card object').toBe(true);
  expect(card.type).toBe('AdaptiveCard');
  expect(card.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
  expect(String(card.version)).toMatch(/^1\.[0-5]$/);
  expect(Array.isArray(card.body), 'card body is an array').toBe(true);
  (card.body as unknown[]).forEach((element, i) => {
    const e = element as Json;
    expect(ADAPTIVE_CARD_ELEMENT_TYPES, `body[${i}].type`).toContain(e.type);
    if (e.type === 'TextBlock') {
      expect(typeof e.text, `body[${i}].text is a string`).toBe('string');
    }
    if (e.type === 'FactSet') {
      expect(Array.isArray(e.facts), `body[${i}].facts is an array`).toBe(true);
      for (const fact of e.facts as Json[]) {
        expect(typeof fact.title).toBe('string');
        expect(typeof fact.value).toBe('string');
      }
    }
  });
};
