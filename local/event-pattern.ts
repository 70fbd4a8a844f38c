/**
 * EventBridge event-pattern matching as the service evaluates it (its engine is AWS's Event Ruler), so a rule
 * that would not match in AWS does not match locally either. Patterns are validated first, with the same
 * refusals PutRule gives, and compiled once; matching is then a walk over the compiled tree.
 *
 * Semantics (EventBridge user guide, "Event patterns" / "Comparison operators"; Event Ruler README):
 * - fields in one object are ANDed; the values listed for a field are ORed; `$or` ORs whole sub-patterns;
 * - a field matches only leaf values (string, number, boolean, null) present in the event; an event array is
 *   matched element by element (any element may match), and a nested pattern object applied to an array of
 *   objects must match within ONE element (Ruler's "array-consistent" matching);
 * - `exists: false` matches when the field has no leaf value (absent, an object, or an empty array);
 * - anything-but is a deny list: it never matches an absent field, and a value of another type is not denied;
 * - prefix / suffix / equals-ignore-case / wildcard apply to strings only; numeric to numbers within ±5e9.
 */

export class InvalidEventPatternError extends Error {
  readonly code = 'InvalidEventPattern';
  constructor(
    readonly reason: string,
    readonly path: string,
  ) {
    super(`Event pattern is not valid${path ? ` at ${path}` : ''}: ${reason}`);
    this.name = 'InvalidEventPatternError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Scalar = null | boolean | number | string;

type ValueMatcher =
  | { readonly kind: 'exact'; readonly value: Scalar }
  | { readonly kind: 'prefix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'suffix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'equalsIgnoreCase'; readonly value: string }
  | { readonly kind: 'wildcard'; readonly regex: RegExp }
  | { readonly kind: 'anythingBut'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'anythingButIgnoreCase'; readonly values: readonly string[] }
  | { readonly kind: 'anythingButPrefix'; readonly values: readonly string[] }
  | { readonly kind: 'anythingButSuffix'; readonly values: readonly string[] }
  | { readonly kind: 'anythingButWildcard'; readonly regexes: readonly RegExp[] }
  | { readonly kind: 'numeric'; readonly bounds: NumericBounds }
  | { readonly kind: 'cidr'; readonly range: IpRange }
  | { readonly kind: 'exists'; readonly value: boolean };

interface NumericBounds {
  readonly lower?: { readonly value: number; readonly inclusive: boolean };
  readonly upper?: { readonly value: number; readonly inclusive: boolean };
}

interface IpRange {
  readonly version: 4 | 6;
  readonly low: bigint;
  readonly high: bigint;
}

type FieldNode =
  | { readonly kind: 'leaf'; readonly key: string; readonly matchers: readonly ValueMatcher[] }
  | { readonly kind: 'object'; readonly key: string; readonly node: ObjectNode };

interface ObjectNode {
  readonly fields: readonly FieldNode[];
  /** Each entry is one `$or`: at least one of its alternatives must match the same object. */
  readonly ors: readonly (readonly ObjectNode[])[];
}

/** A validated pattern, ready to match many events. */
export interface CompiledEventPattern {
  readonly source: Readonly<Record<string, unknown>>;
  matches(event: unknown): boolean;
}

/** PutRule's limit on the length of EventPattern. */
export const MAX_PATTERN_LENGTH = 4096;
/** Numeric matching covers -5e9..5e9 with six decimal places (Event Ruler's ComparableNumber). */
const NUMERIC_LIMIT = 5e9;
const NUMERIC_DECIMALS = 6;

const OR_KEY = '$or';
/** Operator names Ruler refuses as field names inside `$or` (its RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP). */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  'html',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const joinPath = (path: string, key: string): string => (path ? `${path}.${key}` : key);

// ---------------------------------------------------------------------------------------------- validation

const decimalsOf = (value: number): number => {
  const text = Math.abs(value).toString();
  const exp = /e-(\d+)$/.exec(text);
  const mantissa = text.replace(/e[-+]\d+$/, '');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return exp?.[1] ? fraction + Number(exp[1]) : fraction;
};

const checkNumber = (value: unknown, path: string, what: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidEventPatternError(`${what} must be numeric`, path);
  }
  if (Math.abs(value) > NUMERIC_LIMIT) {
    throw new InvalidEventPatternError(`${what} must be between -5.0E9 and 5.0E9, inclusive`, path);
  }
  if (decimalsOf(value) > NUMERIC_DECIMALS) {
    throw new InvalidEventPatternError(`${what} supports up to 6 decimal places`, path);
  }
  return value;
};

const checkString = (value: unknown, path: string, what: string): string => {
  if (typeof value !== 'string') throw new InvalidEventPatternError(`${what} must be a string`, path);
  return value;
};

/** Ruler's wildcard grammar: `*` matches any run; `\*` and `\\` are literals; `**` and other escapes are refused. */
const compileWildcard = (value: string, path: string): RegExp => {
  let source = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '*') {
      if (value.charAt(i + 1) === '*') {
        throw new InvalidEventPatternError(`consecutive wildcard characters at position ${i}`, path);
      }
      source += '.*';
    } else if (ch === '\\') {
      const next = value.charAt(i + 1);
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(`invalid escape character at position ${i}`, path);
      }
      source += `\\${next}`;
      i++;
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
};

const parseIpv4 = (text: string): bigint | undefined => {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let result = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    result = (result << 8n) | BigInt(n);
  }
  return result;
};

const parseIpv6 = (text: string): bigint | undefined => {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): string[] | undefined => {
    if (!part) return [];
    const raw = part.split(':');
    const last = raw[raw.length - 1] ?? '';
    // An embedded IPv4 tail (::ffff:10.0.0.1) counts as two groups.
    if (last.includes('.')) {
      const v4 = parseIpv4(last);
      if (v4 === undefined) return undefined;
      raw.splice(raw.length - 1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
    }
    return raw.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? raw : undefined;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array.from({ length: halves.length === 1 ? 0 : missing }, () => '0'), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
};

const parseIp = (text: string): { version: 4 | 6; value: bigint } | undefined => {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { version: 6, value: v6 };
};

const compileCidr = (value: string, path: string): IpRange => {
  const [address = '', bits, ...rest] = value.split('/');
  const ip = parseIp(address);
  const width = ip?.version === 6 ? 128 : 32;
  const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!ip || rest.length > 0 || !(prefix >= 0 && prefix <= width)) {
    throw new InvalidEventPatternError(`nonstandard IP address or CIDR: ${value}`, path);
  }
  const hostBits = BigInt(width - prefix);
  const low = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, low, high: low | ((1n << hostBits) - 1n) };
};

const RANGE_OPS = new Set(['>', '>=', '<', '<=', '=']);

const compileNumeric = (spec: unknown, path: string): NumericBounds => {
  if (!Array.isArray(spec)) throw new InvalidEventPatternError('value of numeric must be an array', path);
  const [op1, v1, op2, v2, ...extra] = spec as unknown[];
  if (typeof op1 !== 'string' || !RANGE_OPS.has(op1)) {
    throw new InvalidEventPatternError(`unrecognized numeric range operator: ${String(op1)}`, path);
  }
  const first = checkNumber(v1, path, `value of ${op1}`);
  if (op1 === '=' || op1 === '<' || op1 === '<=') {
    if (spec.length !== 2)
      throw new InvalidEventPatternError('too many elements in numeric expression', path);
    if (op1 === '=')
      return { lower: { value: first, inclusive: true }, upper: { value: first, inclusive: true } };
    return { upper: { value: first, inclusive: op1 === '<=' } };
  }
  const lower = { value: first, inclusive: op1 === '>=' };
  if (spec.length === 2) return { lower };
  if (extra.length > 0 || (op2 !== '<' && op2 !== '<=')) {
    throw new InvalidEventPatternError(`bad numeric range: ${JSON.stringify(spec)}`, path);
  }
  const second = checkNumber(v2, path, `value of ${op2}`);
  if (second <= first) throw new InvalidEventPatternError('bottom must be less than top', path);
  return { lower, upper: { value: second, inclusive: op2 === '<=' } };
};

/** `{prefix: "x"}` or `{prefix: {equals-ignore-case: "x"}}` (same for suffix). */
const compileAffix = (kind: 'prefix' | 'suffix', spec: unknown, path: string): ValueMatcher => {
  if (isPlainObject(spec)) {
    const keys = Object.keys(spec);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw new InvalidEventPatternError(`unsupported ${kind} pattern: ${keys.join(', ')}`, path);
    }
    const value = checkString(spec['equals-ignore-case'], path, 'equals-ignore-case match pattern');
    return { kind, value, ignoreCase: true };
  }
  return { kind, value: checkString(spec, path, `${kind} match pattern`), ignoreCase: false };
};

const compileAnythingBut = (spec: unknown, path: string): ValueMatcher => {
  if (isPlainObject(spec)) {
    const keys = Object.keys(spec);
    const [op] = keys;
    if (keys.length !== 1 || !op) throw new InvalidEventPatternError('anything-but takes one operator', path);
    if (!['equals-ignore-case', 'prefix', 'suffix', 'wildcard'].includes(op)) {
      throw new InvalidEventPatternError(`unsupported anything-but pattern: ${op}`, path);
    }
    const raw = spec[op];
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0) throw new InvalidEventPatternError(`empty anything-but/${op} list`, path);
    const strings = list.map((v) => checkString(v, path, `anything-but/${op} value`));
    switch (op) {
      case 'equals-ignore-case':
        return { kind: 'anythingButIgnoreCase', values: strings };
      case 'prefix':
      case 'suffix':
        if (strings.some((s) => s === '')) {
          throw new InvalidEventPatternError(`empty anything-but/${op} is not allowed`, path);
        }
        return { kind: op === 'prefix' ? 'anythingButPrefix' : 'anythingButSuffix', values: strings };
      default:
        return { kind: 'anythingButWildcard', regexes: strings.map((s) => compileWildcard(s, path)) };
    }
  }
  const list = Array.isArray(spec) ? spec : [spec];
  const allStrings = list.every((v) => typeof v === 'string');
  const allNumbers = list.every((v) => typeof v === 'number');
  if (list.length === 0 || !(allStrings || allNumbers)) {
    throw new InvalidEventPatternError(
      'anything-but takes a string, a number, or a non-empty list of only strings or only numbers',
      path,
    );
  }
  const values = allNumbers
    ? list.map((v) => checkNumber(v, path, 'anything-but value'))
    : (list as string[]);
  return { kind: 'anythingBut', values };
};

const compileMatchExpression = (expr: Record<string, unknown>, path: string): ValueMatcher => {
  const keys = Object.keys(expr);
  const [op] = keys;
  if (!op) throw new InvalidEventPatternError('match expression name not found', path);
  if (keys.length > 1) throw new InvalidEventPatternError('only one key allowed in match expression', path);
  const spec = expr[op];
  switch (op) {
    case 'prefix':
    case 'suffix':
      return compileAffix(op, spec, path);
    case 'equals-ignore-case':
      return { kind: 'equalsIgnoreCase', value: checkString(spec, path, 'equals-ignore-case match pattern') };
    case 'wildcard':
      return { kind: 'wildcard', regex: compileWildcard(checkString(spec, path, 'wildcard pattern'), path) };
    case 'anything-but':
      return compileAnythingBut(spec, path);
    case 'numeric':
      return { kind: 'numeric', bounds: compileNumeric(spec, path) };
    case 'cidr':
      return { kind: 'cidr', range: compileCidr(checkString(spec, path, 'cidr match pattern'), path) };
    case 'exists':
      if (typeof spec !== 'boolean') {
        throw new InvalidEventPatternError('exists match pattern must be either true or false', path);
      }
      return { kind: 'exists', value: spec };
    default:
      throw new InvalidEventPatternError(`unrecognized match type ${op}`, path);
  }
};

const compileValues = (values: unknown[], path: string): ValueMatcher[] => {
  if (values.length === 0) throw new InvalidEventPatternError('empty arrays are not allowed', path);
  return values.map((value) => {
    if (isPlainObject(value)) return compileMatchExpression(value, path);
    if (value === null || ['string', 'boolean'].includes(typeof value)) {
      return { kind: 'exact', value: value as Scalar };
    }
    if (typeof value === 'number' && Number.isFinite(value)) return { kind: 'exact', value };
    throw new InvalidEventPatternError(
      `match value must be string, number, true, false, or null, not ${describe(value)}`,
      path,
    );
  });
};

const compileObject = (pattern: Record<string, unknown>, path: string, insideOr: boolean): ObjectNode => {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new InvalidEventPatternError('empty objects are not allowed', path);
  const fields: FieldNode[] = [];
  const ors: ObjectNode[][] = [];
  for (const key of keys) {
    const value = pattern[key];
    const here = joinPath(path, key);
    if (key === OR_KEY) {
      if (!Array.isArray(value)) throw new InvalidEventPatternError('$or must be followed by an array', here);
      if (value.length < 2) {
        throw new InvalidEventPatternError('there must be at least 2 objects in a $or relationship', here);
      }
      ors.push(
        value.map((alternative, i) => {
          if (!isPlainObject(alternative)) {
            throw new InvalidEventPatternError(
              'only JSON objects are allowed in a $or array',
              `${here}[${i}]`,
            );
          }
          return compileObject(alternative, path, true);
        }),
      );
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      throw new InvalidEventPatternError(`${key} is a reserved name and cannot be a field inside $or`, here);
    }
    if (Array.isArray(value)) fields.push({ kind: 'leaf', key, matchers: compileValues(value, here) });
    else if (isPlainObject(value))
      fields.push({ kind: 'object', key, node: compileObject(value, here, insideOr) });
    else throw new InvalidEventPatternError(`"${key}" must be an object or an array`, here);
  }
  return { fields, ors };
};

// ------------------------------------------------------------------------------------------------ matching

/** Leaf values at a field: scalars, with arrays flattened; objects are not leaves. */
const leavesOf = (value: unknown, out: Scalar[] = []): Scalar[] => {
  if (Array.isArray(value)) for (const item of value) leavesOf(item, out);
  else if (value === null || ['string', 'number', 'boolean'].includes(typeof value))
    out.push(value as Scalar);
  return out;
};

/** Objects at a field, arrays flattened; none means the sub-pattern sees an absent object. */
const objectsOf = (value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] => {
  if (Array.isArray(value)) for (const item of value) objectsOf(item, out);
  else if (isPlainObject(value)) out.push(value);
  return out;
};

const inBounds = (n: number, { lower, upper }: NumericBounds): boolean =>
  Math.abs(n) <= NUMERIC_LIMIT &&
  (!lower || (lower.inclusive ? n >= lower.value : n > lower.value)) &&
  (!upper || (upper.inclusive ? n <= upper.value : n < upper.value));

const sameIgnoringCase = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const matchesValue = (m: ValueMatcher, v: Scalar): boolean => {
  switch (m.kind) {
    case 'exact':
      return v === m.value;
    case 'prefix':
      return (
        typeof v === 'string' &&
        (m.ignoreCase ? v.toLowerCase() : v).startsWith(m.ignoreCase ? m.value.toLowerCase() : m.value)
      );
    case 'suffix':
      return (
        typeof v === 'string' &&
        (m.ignoreCase ? v.toLowerCase() : v).endsWith(m.ignoreCase ? m.value.toLowerCase() : m.value)
      );
    case 'equalsIgnoreCase':
      return typeof v === 'string' && sameIgnoringCase(v, m.value);
    case 'wildcard':
      return typeof v === 'string' && m.regex.test(v);
    case 'anythingBut':
      return !m.values.some((denied) => denied === v);
    case 'anythingButIgnoreCase':
      return typeof v !== 'string' || !m.values.some((denied) => sameIgnoringCase(v, denied));
    case 'anythingButPrefix':
      return typeof v !== 'string' || !m.values.some((p) => v.startsWith(p));
    case 'anythingButSuffix':
      return typeof v !== 'string' || !m.values.some((s) => v.endsWith(s));
    case 'anythingButWildcard':
      return typeof v !== 'string' || !m.regexes.some((r) => r.test(v));
    case 'numeric':
      return typeof v === 'number' && inBounds(v, m.bounds);
    case 'cidr': {
      if (typeof v !== 'string') return false;
      const ip = parseIp(v);
      return (
        ip !== undefined &&
        ip.version === m.range.version &&
        ip.value >= m.range.low &&
        ip.value <= m.range.high
      );
    }
    case 'exists':
      return m.value;
  }
};

const matchesField = (field: FieldNode, container: Record<string, unknown> | undefined): boolean => {
  const value = container?.[field.key];
  if (field.kind === 'object') {
    const objects = objectsOf(value);
    return objects.length === 0
      ? matchesNode(field.node, undefined)
      : objects.some((o) => matchesNode(field.node, o));
  }
  const leaves = leavesOf(value);
  return field.matchers.some((m) =>
    m.kind === 'exists' ? m.value === leaves.length > 0 : leaves.some((v) => matchesValue(m, v)),
  );
};

const matchesNode = (node: ObjectNode, container: Record<string, unknown> | undefined): boolean =>
  node.fields.every((f) => matchesField(f, container)) &&
  node.ors.every((alternatives) => alternatives.some((a) => matchesNode(a, container)));

// ------------------------------------------------------------------------------------------------ public API

/** Validates and compiles a pattern given as an object or as the JSON text PutRule takes. */
export const compileEventPattern = (pattern: unknown): CompiledEventPattern => {
  let parsed: unknown = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern) as Json;
    } catch (error) {
      throw new InvalidEventPatternError(`not JSON (${(error as Error).message})`, '');
    }
  }
  if (!isPlainObject(parsed)) throw new InvalidEventPatternError('filter is not an object', '');
  if (JSON.stringify(parsed).length > MAX_PATTERN_LENGTH) {
    throw new InvalidEventPatternError(`longer than ${MAX_PATTERN_LENGTH} characters`, '');
  }
  const root = compileObject(parsed, '', false);
  const source = parsed;
  return {
    source,
    matches: (event: unknown) => isPlainObject(event) && matchesNode(root, event),
  };
};

/** Throws InvalidEventPatternError when EventBridge would refuse the pattern. */
export const validateEventPattern = (pattern: unknown): void => {
  compileEventPattern(pattern);
};

/** One-shot match; compile once with compileEventPattern when matching many events. */
export const matchesEventPattern = (pattern: unknown, event: unknown): boolean =>
  compileEventPattern(pattern).matches(event);
