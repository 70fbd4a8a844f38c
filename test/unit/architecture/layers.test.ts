/**
 * The layout is a rule, not a habit: `src/` holds only what ships, the domain is pure, and use cases and
 * adapters meet only through the ports (docs/design.md, "Code layout").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });

/** Every module specifier a file imports (static, dynamic and type-only), as written. */
const importsOf = (file: string): string[] => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
  return specifiers.filter((s) => s !== '');
};

/** Repository-relative path of a relative import, or the package name of a bare one. */
const targetOf = (file: string, specifier: string): string =>
  specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), specifier)) : specifier;

const violations = (files: readonly string[], forbidden: (target: string) => boolean): string[] =>
  files.flatMap((file) =>
    importsOf(file)
      .map((specifier) => targetOf(file, specifier))
      .filter(forbidden)
      .map((target) => `${file} imports ${target}`),
  );

const SRC = sourceFiles('src');

describe('layers', () => {
  it('finds the source tree', () => {
    expect(SRC.length).toBeGreaterThan(20);
    expect(SRC.some((f) => f.startsWith('src/local'))).toBe(false);
  });

  it('nothing under src/ imports local/, test/, bench/ or scripts/ (src/ holds only what ships)', () => {
    expect(violations(SRC, (t) => /^(local|test|bench|scripts)(\/|$)/.test(t))).toEqual([]);
  });

  it('the domain imports no SDK, no Powertools and nothing outside the domain', () => {
    const domain = SRC.filter((f) => f.startsWith('src/domain/'));
    // zod and yaml are pure (no I/O): the access policy document is validated and read with them.
    const pure = (t: string) => /^(zod|yaml)(\/|$)/.test(t);
    expect(
      violations(domain, (t) => !t.startsWith('node:') && !t.startsWith('src/domain/') && !pure(t)),
    ).toEqual([]);
  });

  it('no use case imports an adapter, a handler or an AWS SDK', () => {
    const usecases = SRC.filter((f) => f.startsWith('src/usecases/'));
    expect(
      violations(usecases, (t) => /^src\/(adapters|handlers|commons)\//.test(t) || t.startsWith('@aws-sdk/')),
    ).toEqual([]);
  });

  it('no adapter imports a use case or a handler', () => {
    const adapters = SRC.filter((f) => f.startsWith('src/adapters/'));
    expect(violations(adapters, (t) => /^src\/(usecases|handlers)\//.test(t))).toEqual([]);
  });

  it('the CLI imports only the domain from src/, and nothing of local/ or test/', () => {
    const cli = SRC.filter((f) => f.startsWith('src/cli/'));
    expect(cli.length).toBeGreaterThan(0);
    expect(
      violations(
        cli,
        (t) => (/^src\//.test(t) && !/^src\/(domain|cli)\//.test(t)) || /^(local|test)(\/|$)/.test(t),
      ),
    ).toEqual([]);
  });

  it('the rule can fail: a planted import is reported', () => {
    const planted = ['src/handlers/vend.ts'];
    const forbidden = (t: string) => t === 'src/adapters/dynamodb-session-store.js';
    expect(violations(planted, forbidden)).toEqual([
      'src/handlers/vend.ts imports src/adapters/dynamodb-session-store.js',
    ]);
  });
});
