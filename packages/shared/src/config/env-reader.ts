import { DmrError } from '../errors.js';

/** Environment as a plain record (process.env is passed in by main.ts, never read here). */
export type Env = Readonly<Record<string, string | undefined>>;

interface NumberOptions {
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}

/**
 * Reads and checks environment variables, collecting every problem so an operator
 * sees all bad variables at once. Call {@link EnvReader.finish} after the last read:
 * it throws DMR_CONFIG_INVALID naming each bad variable.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: string[] = [];

  constructor(env: Env) {
    this.#env = env;
  }

  /** A required non-empty string. */
  requiredString(name: string): string {
    const value = this.#raw(name);
    if (value === undefined) this.#problems.push(`${name} is required`);
    return value ?? '';
  }

  /** An optional string, or `fallback`. */
  string(name: string, fallback: string): string {
    return this.#raw(name) ?? fallback;
  }

  /** An optional string, or undefined. */
  optionalString(name: string): string | undefined {
    return this.#raw(name);
  }

  /** An integer within bounds; required when no default is given. */
  int(name: string, options: NumberOptions = {}): number {
    const value = this.#raw(name);
    if (value === undefined) {
      if (options.default === undefined) this.#problems.push(`${name} is required`);
      return options.default ?? 0;
    }
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed)) {
      this.#problems.push(`${name} must be an integer, got "${value}"`);
      return options.default ?? 0;
    }
    if (options.min !== undefined && parsed < options.min) this.#problems.push(`${name} must be ≥ ${options.min}, got ${parsed}`);
    if (options.max !== undefined && parsed > options.max) this.#problems.push(`${name} must be ≤ ${options.max}, got ${parsed}`);
    return parsed;
  }

  /** `true`/`false` (also `1`/`0`, `yes`/`no`). */
  bool(name: string, fallback: boolean): boolean {
    const value = this.#raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.#problems.push(`${name} must be true or false, got "${value}"`);
    return fallback;
  }

  /** A URL whose scheme is one of `schemes` (e.g. `['http:', 'https:']`). */
  url(name: string, schemes: readonly string[], fallback?: string): string {
    const value = this.#raw(name) ?? fallback;
    if (value === undefined) {
      this.#problems.push(`${name} is required`);
      return '';
    }
    try {
      const parsed = new URL(value);
      if (!schemes.includes(parsed.protocol)) this.#problems.push(`${name} must use ${schemes.join(' or ')}, got "${parsed.protocol}"`);
    } catch {
      this.#problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  /** Records a problem found by a caller's own check. */
  problem(message: string): void {
    this.#problems.push(message);
  }

  /** Throws DMR_CONFIG_INVALID listing every problem seen so far. */
  finish(): void {
    if (this.#problems.length > 0) {
      throw new DmrError('DMR_CONFIG_INVALID', `invalid configuration: ${this.#problems.join('; ')}`);
    }
  }

  #raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }
}
