/**
 * The access policy from YAML (or JSON: YAML 1.2 reads it). Apart from access-policy-document.ts because
 * the YAML parser is about 115 KiB minified: the CLI and the local stack read YAML, a Lambda can load JSON.
 */
import { parseDocument } from 'yaml';
import type { AccessPolicy } from './access-policy.js';
import { POLICY_DOCUMENT_MAX_CHARS, PolicyDocumentError, parsePolicy } from './access-policy-document.js';

/** A policy from YAML or JSON text; throws PolicyDocumentError listing every problem. */
export const parsePolicyDocument = (text: string, source?: string): AccessPolicy => {
  if (text.length > POLICY_DOCUMENT_MAX_CHARS) {
    throw new PolicyDocumentError(
      [`the document is longer than ${POLICY_DOCUMENT_MAX_CHARS} characters`],
      source,
    );
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  // Warnings too (an unknown tag, say): a document read other than as written must not load.
  const yamlProblems = [...document.errors, ...document.warnings].map(
    (problem) => `YAML: ${problem.message.split('\n')[0] ?? problem.message}`,
  );
  if (yamlProblems.length > 0) throw new PolicyDocumentError(yamlProblems, source);
  let value: unknown;
  try {
    // Aliases are capped: a few nested anchors could otherwise expand to gigabytes.
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new PolicyDocumentError(
      [`YAML: ${error instanceof Error ? error.message : String(error)}`],
      source,
    );
  }
  return parsePolicy(value, source);
};
