/**
 * docs/design.md "Error responses" lists every code the HTTP APIs answer, under the status they answer it
 * with: read from the handlers' source, so a new refusal cannot go undocumented.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../local/template.js';

const HTTP_DIR = join(REPO_ROOT, 'src', 'handlers', 'http');

/** `status → codes` as the source answers them. */
const codesInSource = (): Map<string, number> => {
  const found = new Map<string, number>();
  for (const file of readdirSync(HTTP_DIR).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(join(HTTP_DIR, file), 'utf8');
    for (const m of text.matchAll(/\bbad\(\s*'(\w+)'/g)) found.set(String(m[1]), 400);
    for (const m of text.matchAll(/(?:errorResponse|HttpRequestError)\(\s*(\d{3}),\s*'(\w+)'/g)) {
      found.set(String(m[2]), Number(m[1]));
    }
    for (const m of text.matchAll(/json\(\s*(\d{3}),\s*\{\s*code:\s*'(\w+)'/g))
      found.set(String(m[2]), Number(m[1]));
  }
  return found;
};

/** `code → status` from the table in docs/design.md. */
const codesInDocs = (): Map<string, number> => {
  const design = readFileSync(join(REPO_ROOT, 'docs', 'design.md'), 'utf8');
  const section = design.slice(design.indexOf('## Error responses'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| status')));
  const documented = new Map<string, number>();
  for (const row of table.split('\n').filter((line) => /^\|\s*\d{3}/.test(line))) {
    const status = Number(/^\|\s*(\d{3})/.exec(row)?.[1]);
    for (const m of row.matchAll(/`(\w+)`/g)) documented.set(String(m[1]), status);
  }
  return documented;
};

describe('the error table in docs/design.md', () => {
  it('holds every code the vend and operator APIs answer, with its status', () => {
    const source = codesInSource();
    expect(source.size).toBeGreaterThan(20);
    const documented = codesInDocs();
    const wrong = [...source].filter(([code, status]) => documented.get(code) !== status);
    expect(wrong, 'codes missing from the table or under another status').toEqual([]);
  });
});
