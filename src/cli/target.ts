/**
 * Where a command sends its requests and how it proves who it is: SigV4 against the deployed API, or the
 * local stack's caller header. The caller header is a local-only stand-in for IAM, so it is never sent
 * anywhere but this machine: a `--caller` aimed at any other URL is a usage error, not a request.
 */
import { usageError } from './errors.js';

/** `npm start` serves the local HTTP API here unless PORT says otherwise. */
export const DEFAULT_LOCAL_API = 'http://127.0.0.1:3000';
export const API_URL_ENV = 'SENTINEL_API_URL';
export const LOCAL_CALLER_ENV = 'SENTINEL_LOCAL_CALLER_ARN';
/** The header the local HTTP API reads the caller's IAM identity from (local/http-api.ts). */
export const LOCAL_CALLER_HEADER = 'x-sentinel-local-caller-arn';

export interface CommonOptions {
  readonly api?: string;
  readonly region?: string;
  readonly awsProfile?: string;
  readonly json?: boolean;
  readonly local?: boolean;
  readonly caller?: string;
}

export type Target =
  | {
      readonly kind: 'aws';
      readonly base: URL;
      readonly region: string;
      /** The named AWS profile whose credentials sign; undefined: the SDK's default chain. */
      readonly awsProfile: string | undefined;
    }
  | { readonly kind: 'local'; readonly base: URL; readonly callerArn: string };

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const isLocalUrl = (url: URL): boolean => LOCAL_HOSTS.has(url.hostname);

/** `<api id>.execute-api.<region>.amazonaws.com` (or `.amazonaws.com.cn`) → the region. */
export const regionFromHost = (hostname: string): string | undefined =>
  /^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(hostname)?.[1];

const parseUrl = (text: string): URL => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--api: not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(`--api: ${url.protocol} is not http(s)`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw usageError('--api: give the base URL only (no query, fragment or user info)');
  }
  return url;
};

export const resolveTarget = (
  options: CommonOptions,
  env: Readonly<Record<string, string | undefined>>,
): Target => {
  const given = options.api ?? env[API_URL_ENV];
  if (given === undefined || given === '') {
    if (!options.local) throw usageError(`--api URL is required (or set ${API_URL_ENV})`);
  }
  const base = parseUrl(given || DEFAULT_LOCAL_API);
  const local = isLocalUrl(base);
  if (options.caller !== undefined && !local) {
    throw usageError(
      `--caller is for the local stack only and is never sent to ${base.origin}: remove it, or point --api at http://127.0.0.1`,
    );
  }
  if (options.local && !local) {
    throw usageError(
      `--local needs the local stack's URL (http://127.0.0.1:<port> or localhost), not ${base.origin}`,
    );
  }
  if (local) {
    const callerArn = options.caller ?? env[LOCAL_CALLER_ENV];
    if (callerArn === undefined || callerArn === '') {
      throw usageError(`the local stack needs a caller: pass --caller ARN or set ${LOCAL_CALLER_ENV}`);
    }
    if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/.test(callerArn)) {
      throw usageError(`--caller: not an IAM or STS principal ARN: ${JSON.stringify(callerArn)}`);
    }
    return { kind: 'local', base, callerArn };
  }
  // A signature over plain HTTP could be read and replayed on the way.
  if (base.protocol !== 'https:')
    throw usageError(`--api: ${base.origin} must be https (http only for the local stack)`);
  const region = options.region ?? regionFromHost(base.hostname);
  if (region === undefined) {
    throw usageError(`cannot tell the region from ${base.hostname}: pass --region`);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    throw usageError(`--region: not a region: ${JSON.stringify(region)}`);
  return { kind: 'aws', base, region, awsProfile: options.awsProfile };
};
