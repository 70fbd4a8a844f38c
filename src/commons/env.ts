/**
 * Reading configuration from the environment at init. Every failure is a ConfigurationError whose message
 * names the variable, so a bad deployment fails on its first cold start with a message an operator can act on.
 */
import { ConfigurationError } from '../domain/errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** A set, non-blank variable. */
export const requireEnv = (name: string, env: Env = process.env): string => {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`environment variable ${name} is required but not set`);
  }
  return value;
};

/** The variable's value, or `fallback` when it is unset or blank. */
export const optionalEnv = (name: string, fallback: string, env: Env = process.env): string => {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
};

/** One of `allowed`; unset means `fallback`; anything else fails naming the variable and the choices. */
export const enumEnv = <const T extends string>(
  name: string,
  allowed: readonly T[],
  fallback: T,
  env: Env = process.env,
): T => {
  const value = optionalEnv(name, fallback, env).trim();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigurationError(
      `environment variable ${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
};

/** A whole number within [min, max]; unset means `fallback`. */
export const intEnv = (
  name: string,
  bounds: { readonly min: number; readonly max: number; readonly fallback: number },
  env: Env = process.env,
): number => {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return bounds.fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) {
    throw new ConfigurationError(
      `environment variable ${name} must be a whole number, got ${JSON.stringify(raw)}`,
    );
  }
  if (value < bounds.min || value > bounds.max) {
    throw new ConfigurationError(
      `environment variable ${name} must be between ${bounds.min} and ${bounds.max}, got ${value}`,
    );
  }
  return value;
};

/**
 * A JSON variable checked by `parse`. A parse failure (bad JSON or a thrown validation error) is rethrown
 * as a ConfigurationError naming the variable, with the validator's message as the reason.
 */
export const jsonEnv = <T>(name: string, parse: (value: unknown) => T, env: Env = process.env): T => {
  const raw = requireEnv(name, env);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError(
      `environment variable ${name} is not valid JSON: ${(error as Error).message}`,
    );
  }
  try {
    return parse(value);
  } catch (error) {
    throw new ConfigurationError(`environment variable ${name} is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
};
