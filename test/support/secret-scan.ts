/**
 * The secrets scan: finds credentials in what the pipeline leaves behind (log lines, bus events, execution
 * inputs and outputs, table items). Two kinds of finding:
 *
 * - an issued credential, by exact value: the secret access key, the session token, and the access key id.
 *   The design never logs an access key id on purpose (vend logs only the credentials' expiry, the offline
 *   issuer only the 15-character marker prefix), so a full one in the output means a credentials object
 *   leaked, and it is reported like the secret it travels with;
 * - a credential-shaped string, whoever issued it: an `AKIA…`/`ASIA…` key id, a 40-character base64 secret
 *   key after a key-ish name, an STS session-token blob (or a long base64 blob after a token-ish name), and
 *   the offline issuer's `OFFLINE-FAKE-…` secrets and tokens.
 *
 * A hit never carries the secret: its excerpt shows the surrounding text with every hit masked.
 */

export type SecretKind =
  | 'issued-secret-access-key'
  | 'issued-session-token'
  | 'issued-access-key-id'
  | 'access-key-id-shaped'
  | 'secret-access-key-shaped'
  | 'session-token-shaped'
  | 'offline-credential-shaped';

export interface SecretHit {
  /** The source's `where`, e.g. `log line 12` or `Sessions table item 3f…`. */
  readonly where: string;
  readonly kind: SecretKind;
  /** Up to 40 characters either side, every credential in it masked as `[kind, n chars]`. */
  readonly excerpt: string;
}

export interface ScanSource {
  readonly where: string;
  readonly text: string;
}

export interface IssuedCredentialValues {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

interface Match {
  readonly start: number;
  readonly end: number;
  readonly kind: SecretKind;
}

/** Characters that never occur inside a credential: runs between them are the candidate tokens. */
const TOKEN_RUN = /[^\s"'`,;:{}()[\]<>|\\&?]+/g;
/** Inside a run, a credential may follow `name=` or a path segment, and precede one. */
const INNER_SEPARATORS = new Set(['=', '/']);
/** Shorter issued values are not looked for: nothing issued by STS or the offline issuer is shorter. */
const MIN_ISSUED_LENGTH = 16;

const SHAPES: readonly { readonly kind: SecretKind; readonly pattern: RegExp; readonly after?: RegExp }[] = [
  { kind: 'access-key-id-shaped', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  {
    kind: 'secret-access-key-shaped',
    pattern: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    // Only next to a key-ish name: a bare 40-character run is as likely a digest.
    after: /(secret|password|credential|private[_-]?key|access[_-]?key)[^\n]{0,24}$/i,
  },
  {
    kind: 'session-token-shaped',
    // STS session tokens are base64 of a fixed binary header ("!\n\torigin_ec…" or the older "\x17\n\x06…aws").
    pattern: /(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE)[A-Za-z0-9/+=]{40,}/g,
  },
  {
    kind: 'session-token-shaped',
    pattern: /(?<![A-Za-z0-9/+=_-])[A-Za-z0-9/+=_-]{100,}/g,
    after: /(token|x-amz-security-token)[^\n]{0,24}$/i,
  },
  { kind: 'offline-credential-shaped', pattern: /OFFLINE-FAKE-(?:TOKEN-)?[A-Za-z0-9_-]{16,}/g },
];

const ISSUED_KINDS: Readonly<Record<keyof IssuedCredentialValues, SecretKind>> = {
  accessKeyId: 'issued-access-key-id',
  secretAccessKey: 'issued-secret-access-key',
  sessionToken: 'issued-session-token',
};

const issuedIndex = (issued: Iterable<IssuedCredentialValues>): Map<string, SecretKind> => {
  const index = new Map<string, SecretKind>();
  for (const credentials of issued) {
    for (const field of Object.keys(ISSUED_KINDS) as (keyof IssuedCredentialValues)[]) {
      const value = credentials[field];
      if (value.length >= MIN_ISSUED_LENGTH) index.set(value, ISSUED_KINDS[field]);
    }
  }
  return index;
};

/** Every issued value that is a whole token run, or a part of one cut at `=` or `/` (`key=SECRET`, `/x/SECRET`). */
const issuedMatches = (text: string, index: Map<string, SecretKind>): Match[] => {
  if (index.size === 0) return [];
  const matches: Match[] = [];
  for (const run of text.matchAll(TOKEN_RUN)) {
    const token = run[0];
    if (token.length < MIN_ISSUED_LENGTH) continue;
    const cuts = [0];
    const ends = [token.length];
    for (let i = 0; i < token.length; i++) {
      if (!INNER_SEPARATORS.has(token.charAt(i))) continue;
      cuts.push(i + 1);
      ends.push(i);
    }
    for (const from of cuts) {
      for (const to of ends) {
        if (to - from < MIN_ISSUED_LENGTH) continue;
        const kind = index.get(token.slice(from, to));
        if (kind) matches.push({ start: run.index + from, end: run.index + to, kind });
      }
    }
  }
  return matches;
};

const shapeMatches = (text: string): Match[] => {
  const matches: Match[] = [];
  for (const shape of SHAPES) {
    for (const found of text.matchAll(shape.pattern)) {
      if (shape.after && !shape.after.test(text.slice(Math.max(0, found.index - 48), found.index))) continue;
      matches.push({ start: found.index, end: found.index + found[0].length, kind: shape.kind });
    }
  }
  return matches;
};

/** Issued matches first, then longer ones: an overlapping later match is the same secret seen again. */
const distinct = (matches: Match[]): Match[] => {
  const ranked = [...matches].sort(
    (a, b) =>
      Number(b.kind.startsWith('issued-')) - Number(a.kind.startsWith('issued-')) ||
      b.end - b.start - (a.end - a.start),
  );
  const kept: Match[] = [];
  for (const match of ranked) {
    if (!kept.some((k) => match.start < k.end && k.start < match.end)) kept.push(match);
  }
  return kept.sort((a, b) => a.start - b.start);
};

const EXCERPT_RADIUS = 40;

/** The text around `hit`, every match in the window masked, so no excerpt ever shows a secret. */
const excerptOf = (text: string, hit: Match, all: readonly Match[]): string => {
  const from = Math.max(0, hit.start - EXCERPT_RADIUS);
  const to = Math.min(text.length, hit.end + EXCERPT_RADIUS);
  let excerpt = '';
  let at = from;
  for (const match of all) {
    if (match.end <= from || match.start >= to) continue;
    excerpt += text.slice(at, Math.max(at, match.start));
    excerpt += `[${match.kind}, ${match.end - match.start} chars]`;
    at = Math.max(at, match.end);
  }
  excerpt += text.slice(Math.min(at, to), to);
  return `${from > 0 ? '…' : ''}${excerpt.replace(/\s+/g, ' ')}${to < text.length ? '…' : ''}`;
};

export const findSecrets = (
  sources: Iterable<{ where: string; text: string }>,
  issued: Iterable<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>,
): SecretHit[] => {
  const index = issuedIndex(issued);
  const hits: SecretHit[] = [];
  for (const { where, text } of sources) {
    const found = distinct([...issuedMatches(text, index), ...shapeMatches(text)]);
    for (const match of found) hits.push({ where, kind: match.kind, excerpt: excerptOf(text, match, found) });
  }
  return hits;
};

/** One line per hit, for a failing assertion's message (no secret in it). */
export const describeHits = (hits: readonly SecretHit[]): string =>
  hits.map((hit) => `${hit.where}: ${hit.kind}: ${hit.excerpt}`).join('\n');
