/**
 * Globs of the access policy and of identity roles: `*` is any run of characters (`/` and `:` included, so
 * one `*` spans the parts of an ARN), `?` is exactly one character, everything else is literal and
 * case-sensitive. Each glob compiles once, at parse time (see CompiledGlob); `matchList` tests a value
 * against a compiled list.
 */

export const GLOB_MAX_LENGTH = 2048;

/** Why `glob` cannot be a pattern, or undefined when it can. */
export const globProblem = (glob: string): string | undefined => {
  if (glob.length === 0) return 'an empty pattern matches nothing; omit the condition to match anything';
  if (glob.length > GLOB_MAX_LENGTH) return `a pattern is at most ${GLOB_MAX_LENGTH} characters`;
  // Control characters and whitespace never occur in ARNs, names or ids: one here is a typo or an injection.
  if (/[\s\p{Cc}]/u.test(glob)) return 'a pattern has no whitespace or control characters';
  return undefined;
};

export const isLiteral = (glob: string): boolean => !glob.includes('*') && !glob.includes('?');

const literal = (segment: string): string => {
  let source = '';
  for (const ch of segment) source += ch === '?' ? '[^]' : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  return source;
};

/**
 * The anchored RegExp source of one glob. A naive `[^]*` per star backtracks polynomially in the number of
 * stars (a careless `*a*a*a*b` against a long ARN would stall the vend path), so every segment between two
 * stars is matched atomically at its first occurrence: `(?=([^]*?seg))\N` (a lookahead never backtracks).
 * Leftmost placement of each middle segment is what glob matching needs, so the result is unchanged.
 * `groups` numbers the capture groups across an alternation of several globs.
 */
const globSource = (glob: string, groups: { n: number }): string => {
  const segments = glob.split('*');
  if (segments.length === 1) return `^${literal(glob)}$`;
  const first = segments[0] ?? '';
  const last = segments.at(-1) ?? '';
  let source = `^${literal(first)}`;
  for (const middle of segments.slice(1, -1)) {
    if (middle === '') continue; // `**` is one star
    groups.n += 1;
    // `(?:\N)`, not a bare `\N`: a digit after it would read as a longer group number.
    source += `(?=([^]*?${literal(middle)}))(?:\\${groups.n})`;
  }
  return `${source}[^]*${literal(last)}$`;
};

/** One glob as an anchored RegExp (the `u` flag makes `?` one code point, not one UTF-16 unit). */
export const compileGlob = (glob: string): RegExp => {
  const problem = globProblem(glob);
  if (problem !== undefined) throw new RangeError(`invalid pattern ${JSON.stringify(glob)}: ${problem}`);
  return new RegExp(globSource(glob, { n: 0 }), 'u');
};

/** `*`, `**` …: matches every value. */
export const matchesEverything = (glob: string): boolean => /^\*+$/.test(glob);

/**
 * A glob ready to test. Its literal prefix and suffix refuse most values before anything else runs. Without
 * `?`, the segments between stars are then found in order with indexOf, leftmost first (what the atomic
 * RegExp does, without its cost); with `?`, the compiled RegExp decides.
 */
interface CompiledGlob {
  readonly prefix: string;
  readonly suffix: string;
  /** Fewest UTF-16 units of a match: the literals and one per `?`. */
  readonly minLength: number;
  readonly middles: readonly string[];
  readonly regex: RegExp | undefined;
}

const compiled = (glob: string): CompiledGlob => {
  const first = glob.search(/[*?]/);
  const last = Math.max(glob.lastIndexOf('*'), glob.lastIndexOf('?'));
  const hasQuestion = glob.includes('?');
  return {
    prefix: glob.slice(0, first),
    suffix: glob.slice(last + 1),
    minLength: glob.replaceAll('*', '').length,
    middles: hasQuestion
      ? []
      : glob
          .slice(first, last + 1)
          .split('*')
          .filter((segment) => segment !== ''),
    regex: hasQuestion ? compileGlob(glob) : undefined,
  };
};

const matchGlob = (glob: CompiledGlob, value: string): boolean => {
  const { prefix, suffix, middles, regex } = glob;
  if (value.length < glob.minLength || !value.startsWith(prefix) || !value.endsWith(suffix)) return false;
  if (regex !== undefined) return regex.test(value);
  let at = prefix.length;
  const stop = value.length - suffix.length;
  for (const middle of middles) {
    const found = value.indexOf(middle, at);
    if (found < 0 || found + middle.length > stop) return false;
    at = found + middle.length;
  }
  return true;
};

/**
 * How a list decides. A shape tag read by one function, rather than a closure per list: the evaluate loop
 * then calls one function on objects of one shape, which the JIT inlines (a closure per rule made every
 * call site megamorphic and cost about half the evaluation).
 */
const ANY = 0;
const NONE = 1;
const ONE_LITERAL = 2;
const TWO_LITERALS = 3;
const MIXED = 4;

/** What a list condition becomes (every field present, one hidden class). */
export interface PatternList {
  /** The patterns as written, for messages and for the shadowing check. */
  readonly patterns: readonly string[];
  /** True when a pattern is `*`: the condition matches anything, as if it were absent. */
  readonly matchesAll: boolean;
  readonly kind: number;
  readonly a: string;
  readonly b: string;
  readonly literals: ReadonlySet<string>;
  readonly globs: readonly CompiledGlob[];
}

/** Whether `value` matches any pattern of the list. */
export const matchList = (list: PatternList, value: string): boolean => {
  switch (list.kind) {
    case ANY:
      return true;
    case ONE_LITERAL:
      return value === list.a;
    case TWO_LITERALS:
      return value === list.a || value === list.b;
    case MIXED: {
      if (list.literals.size > 0 && list.literals.has(value)) return true;
      for (const glob of list.globs) if (matchGlob(glob, value)) return true;
      return false;
    }
    default: // NONE: an empty list matches nothing
      return false;
  }
};

/** A list of globs, specialised to its shape (anything, one or two literals, the general case). */
export const compilePatternList = (patterns: readonly string[]): PatternList => {
  for (const glob of patterns) {
    const problem = globProblem(glob);
    if (problem !== undefined) throw new RangeError(`invalid pattern ${JSON.stringify(glob)}: ${problem}`);
  }
  const frozen = Object.freeze([...patterns]);
  const literals = [...new Set(frozen.filter(isLiteral))];
  const globs = frozen.filter((glob) => !isLiteral(glob)).map(compiled);
  const matchesAll = frozen.some(matchesEverything);
  let kind = MIXED;
  if (matchesAll) kind = ANY;
  else if (frozen.length === 0) kind = NONE;
  else if (globs.length === 0 && literals.length === 1) kind = ONE_LITERAL;
  else if (globs.length === 0 && literals.length === 2) kind = TWO_LITERALS;
  return Object.freeze({
    patterns: frozen,
    matchesAll,
    kind,
    a: literals[0] ?? '',
    b: literals[1] ?? '',
    literals: new Set(literals),
    globs: Object.freeze(globs),
  });
};

/** One glob as a test (identity roles, say): the same matching as in a list. */
export const globMatcher = (glob: string): ((value: string) => boolean) => {
  const list = compilePatternList([glob]);
  return (value) => matchList(list, value);
};
