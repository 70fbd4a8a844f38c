/**
 * The documentation stands on its own: README.md stays short and opens with the set-up commands, every
 * relative link in README.md and docs/ lands on an existing heading, and nothing in the repository points
 * at a file outside it, at an issue number, or at an invariant docs/design.md does not define.
 * Each failure lists the offending references as `file:line: text`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const THIS_FILE = resolve(fileURLToPath(import.meta.url));
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const DESIGN = join(DOCS, 'design.md');
const README_MAX_BYTES = 10_240;

/** Directories and files whose text may cite documentation. */
const SCANNED_DIRS = ['src', 'local', 'test', 'bench', 'scripts', 'statemachines', 'docs'];
const SCANNED_FILES = ['README.md', 'template.yaml'];

interface Offence {
  readonly where: string;
  readonly found: string;
  readonly text: string;
}

const rel = (file: string): string => relative(ROOT, file).split(sep).join('/');

const walk = (dir: string): string[] => {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
};

/** Every text file in scope, this test excluded (it names the patterns it looks for). */
const scannedFiles = (): string[] =>
  [
    ...SCANNED_DIRS.flatMap((dir) => walk(join(ROOT, dir))),
    ...SCANNED_FILES.map((file) => join(ROOT, file)).filter((file) => existsSync(file)),
  ]
    .filter((file) => resolve(file) !== THIS_FILE)
    .filter((file) => statSync(file).size < 2_000_000)
    .sort();

const readText = (file: string): string | undefined => {
  const text = readFileSync(file, 'utf8');
  return text.includes('\u0000') ? undefined : text;
};

const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

const lineText = (text: string, index: number): string => {
  const start = text.lastIndexOf('\n', index - 1) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end === -1 ? undefined : end).trim();
};

/** Every match of `pattern` (global) in the scanned files, as `file:line`. */
const findAll = (pattern: RegExp, accept: (match: RegExpExecArray) => boolean = () => true): Offence[] => {
  const offences: Offence[] = [];
  for (const file of scannedFiles()) {
    const text = readText(file);
    if (text === undefined) continue;
    for (const match of text.matchAll(pattern)) {
      if (!accept(match)) continue;
      offences.push({
        where: `${rel(file)}:${lineOf(text, match.index)}`,
        found: match[0],
        text: lineText(text, match.index),
      });
    }
  }
  return offences;
};

const report = (offences: readonly Offence[]): string[] =>
  offences.map((o) => `${o.where}: "${o.found}" in: ${o.text}`);

/** Markdown with its fenced code blocks emptied (the lines stay, so line numbers stay right). */
const withoutFences = (markdown: string): string => {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && opening !== undefined) {
        fence = opening;
        return '';
      }
      if (fence !== undefined) {
        if (line.trim().startsWith(fence)) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
};

/** Markdown without code: no fenced blocks, inline code blanked out. */
const proseOf = (markdown: string): string =>
  withoutFences(markdown).replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));

/** The anchor GitHub gives a heading: lowercase, punctuation dropped (but `-` and `_`), spaces to `-`. */
const githubAnchor = (heading: string): string =>
  heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

/** All anchors of a markdown file: its headings (duplicates get -1, -2 …) and explicit `<a id>`/`name`. */
const anchorsOf = (file: string): Set<string> => {
  const prose = withoutFences(readFileSync(file, 'utf8'));
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose.split('\n')) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = githubAnchor(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const match of prose.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) if (match[1]) anchors.add(match[1]);
  return anchors;
};

const markdownFiles = (): string[] => [
  README,
  ...(existsSync(DOCS) ? readdirSync(DOCS).filter((f) => f.endsWith('.md')) : []).map((f) => join(DOCS, f)),
];

const firstFencedBlock = (markdown: string): string | undefined =>
  /^\s{0,3}```[^\n]*\n([\s\S]*?)^\s{0,3}```/m.exec(markdown)?.[1];

describe('README.md', () => {
  const readme = readFileSync(README, 'utf8');

  it(`is at most ${README_MAX_BYTES} bytes`, () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it('opens with the set-up commands in its first fenced block', () => {
    // Act
    const block = firstFencedBlock(readme);
    // Assess
    expect(block).toBeDefined();
    expect(block).toContain('npm install && npm start');
    expect(block).toContain('npm test');
  });

  it('draws the flow as a Mermaid diagram', () => {
    expect(readme).toMatch(/^\s{0,3}```mermaid\s*$/m);
  });
});

describe('references in the repository', () => {
  it('never point outside the repository to the shared design notes', () => {
    const offences = findAll(/\.\.\/shared|DESIGN\.md|DESIGN §/g);
    expect(report(offences), 'cite a heading in docs/ instead').toEqual([]);
  });

  it('never cite an issue number', () => {
    const offences = findAll(/\bissue #?\d+/gi);
    expect(report(offences), 'say what the rule is, or link a heading in docs/').toEqual([]);
  });

  it('cite only invariants that docs/design.md defines as "### Invariant N — "', () => {
    // Prepare
    const design = existsSync(DESIGN) ? readFileSync(DESIGN, 'utf8') : '';
    const defined = new Set([...design.matchAll(/^### Invariant (\d+) — /gm)].map((m) => Number(m[1])));
    // Act: "invariant 3", "invariants 2 and 5", "invariants 1, 4 or 6"
    const offences = findAll(
      /\binvariants? +(\d+(?:(?: *, *(?:and +|or +)?| +and +| +or +| *& *| *\/ *)\d+)*)/gi,
      (m) => (m[1] ?? '').split(/\D+/).some((n) => n !== '' && !defined.has(Number(n))),
    );
    // Assess
    expect(defined.size, 'docs/design.md defines no invariant').toBeGreaterThan(0);
    expect(report(offences), `defined: ${[...defined].sort((a, b) => a - b).join(', ')}`).toEqual([]);
  });
});

describe('links in README.md and docs/', () => {
  it('land on an existing file and heading', () => {
    // Prepare
    const broken: string[] = [];
    // Act
    for (const file of markdownFiles()) {
      const prose = proseOf(readFileSync(file, 'utf8'));
      for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const href = match[1] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto: …
        const [path = '', anchor] = href.split('#', 2);
        const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${rel(file)}:${lineOf(prose, match.index)}: ${href}`;
        if (!existsSync(target)) {
          broken.push(`${where} (no file ${rel(target)})`);
          continue;
        }
        if (anchor === undefined || !target.endsWith('.md')) continue;
        if (!anchorsOf(target).has(anchor)) broken.push(`${where} (no heading #${anchor} in ${rel(target)})`);
      }
    }
    // Assess
    expect(broken).toEqual([]);
  });

  it('compute anchors the way GitHub does', () => {
    expect(githubAnchor('Invariant 3 — No credential outlives its session')).toBe(
      'invariant-3--no-credential-outlives-its-session',
    );
    expect(githubAnchor('SourceIdentity uses `=`, not `:`')).toBe('sourceidentity-uses--not-');
    expect(githubAnchor('Trace a session in the Step Functions console')).toBe(
      'trace-a-session-in-the-step-functions-console',
    );
  });
});
