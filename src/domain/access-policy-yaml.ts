/**
 * The access policy from YAML (or JSON: YAML 1.2 reads it). Apart from access-policy-document.ts because
 * the YAML parser is about 115 KiB minified: the CLI and the local stack read YAML, a Lambda can load JSON.
 */
import { parseDocument } from 'yaml';
import type { AccessPolicy } from './access-policy.js';
import { POLICY_DOCUMENT_MAX_CHARS, PolicyDocumentError, parsePolicy } from './access-policy-document.js';

/**
 * Far deeper than any policy (rules nest four levels). The YAML parser recurses per level, and a stack
 * overflow inside it can leave V8's regexp compiler unusable: the next deep document then kills the process
 * (out of memory) instead of being refused, which the local stack's 5 s re-read would hit.
 */
export const POLICY_MAX_NESTING = 64;

/**
 * The document's nesting, read closely enough to stop a runaway document before the parser recurses into it:
 * open flow brackets outside single-line quoted scalars, plus the block indentation, counted as a line's
 * leading spaces, tabs and `-`/`?`/`:` indicators (each block level needs at least one). A reading of YAML's
 * quoting, not the grammar: brackets hidden in multi-line quotes could slip past it, but whoever writes the
 * policy already decides who may vend; this is about a mistaken document taking the process down.
 */
const nestingDepth = (text: string): number => {
  let deepest = 0;
  let flow = 0;
  for (const line of text.split(/\r\n|\r|\n/)) {
    const indent = Math.ceil((/^[ \t?:-]*/.exec(line)?.[0].length ?? 0) / 2);
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i] ?? '';
      const before = i === 0 ? ' ' : (line[i - 1] ?? ' ');
      if (quote !== undefined) {
        if (c === '\\' && quote === '"') i++;
        else if (c === "'" && quote === "'" && line[i + 1] === "'") i++;
        else if (c === quote) quote = undefined;
      } else if ((c === '"' || c === "'") && ' \t[{,:'.includes(before)) quote = c;
      else if (c === '#' && ' \t'.includes(before)) break;
      else if (c === '[' || c === '{') flow++;
      else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
      deepest = Math.max(deepest, flow + indent);
    }
    deepest = Math.max(deepest, indent);
  }
  return deepest;
};

/** A policy from YAML or JSON text; throws PolicyDocumentError listing every problem. */
export const parsePolicyDocument = (text: string, source?: string): AccessPolicy => {
  if (text.length > POLICY_DOCUMENT_MAX_CHARS) {
    throw new PolicyDocumentError(
      [`the document is longer than ${POLICY_DOCUMENT_MAX_CHARS} characters`],
      source,
    );
  }
  const depth = nestingDepth(text);
  if (depth > POLICY_MAX_NESTING) {
    throw new PolicyDocumentError(
      [`the document nests ${depth} levels deep; a policy needs at most ${POLICY_MAX_NESTING}`],
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
