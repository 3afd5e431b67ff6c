import type { FastifyInstance } from 'fastify';
import { parseDocument, parse as parseYaml } from 'yaml';
import { findTextProblem } from '../domain/index.js';
import { ApiError } from './api-error.js';

/** Deepest nesting of arrays and objects a body may have (a policy document nests at most 32 levels). */
export const MAX_BODY_DEPTH = 64;
/** Content types `POST /v1/import` takes as YAML. */
export const YAML_CONTENT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'] as const;

/** The routes that take a YAML body. */
export const YAML_ROUTES: readonly string[] = ['/v1/import'];

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');

/**
 * Replaces fastify's body parsers: JSON (and, for imports, YAML) decoded as strict UTF-8 and parsed without
 * prototype pollution. Bytes that are not UTF-8 are refused naming the field that holds them; malformed documents
 * and nesting deeper than {@link MAX_BODY_DEPTH} are `DMR_CONTROL_INVALID_INPUT` on `body`.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    try {
      done(null, parseJson(decode(body, parseJsonLenient)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser([...YAML_CONTENT_TYPES], { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    try {
      if (!YAML_ROUTES.includes(request.routeOptions.url ?? '')) {
        throw new ApiError('DMR_CONTROL_UNSUPPORTED_MEDIA', 'only POST /v1/import takes YAML; send application/json');
      }
      done(null, parseYamlDocument(decode(body, parseYamlLenient)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** Strict UTF-8; on invalid bytes, refuses naming the field whose string holds them (found in a lenient decoding). */
function decode(body: Buffer, parseLenient: (text: string) => unknown): string {
  try {
    return STRICT_UTF8.decode(body);
  } catch {
    let field = 'body';
    try {
      field = findTextProblem(parseLenient(LENIENT_UTF8.decode(body)), '')?.field || 'body';
    } catch {
      // the lenient decoding does not parse either: the body as a whole is at fault
    }
    throw new ApiError('DMR_CONTROL_INVALID_INPUT', `${field} holds bytes that are not valid UTF-8`, { field });
  }
}

/** Parses JSON text; `__proto__` and `constructor.prototype` members are refused rather than dropped. */
export function parseJson(text: string): unknown {
  checkDepth(text);
  try {
    return JSON.parse(text, refuseProtoKeys);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('DMR_CONTROL_INVALID_INPUT', `body is not valid JSON (${(error as Error).message})`, { field: 'body' });
  }
}

function parseJsonLenient(text: string): unknown {
  return JSON.parse(text);
}

/** Parses one YAML document (YAML 1.2 core schema; unknown tags, duplicate keys and any warning refused; aliases bounded). */
export function parseYamlDocument(text: string): unknown {
  checkDepth(text);
  try {
    const document = parseDocument(text, { schema: 'core', uniqueKeys: true, merge: false });
    // an unknown tag (`!!js/function`) is only a warning to the library: here it is a refusal, like any error
    const [problem] = [...document.errors, ...document.warnings];
    if (problem) throw problem;
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    return JSON.parse(JSON.stringify(value ?? null), refuseProtoKeys);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('DMR_CONTROL_INVALID_INPUT', `body is not valid YAML (${(error as Error).message.split('\n')[0]})`, {
      field: 'body',
    });
  }
}

function parseYamlLenient(text: string): unknown {
  return parseYaml(text, { schema: 'core' });
}

function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new ApiError('DMR_CONTROL_INVALID_INPUT', 'body holds a "__proto__" member', { field: 'body' });
  return value;
}

/** Refuses text whose brackets nest deeper than {@link MAX_BODY_DEPTH} before any parser recurses into it. */
function checkDepth(text: string): void {
  let depth = 0;
  let isInString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (isInString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) isInString = false;
    } else if (char === 0x22) isInString = true;
    else if (char === 0x5b || char === 0x7b) {
      if (++depth > MAX_BODY_DEPTH) {
        throw new ApiError('DMR_CONTROL_INVALID_INPUT', `body nests deeper than ${MAX_BODY_DEPTH} levels`, { field: 'body' });
      }
    } else if (char === 0x5d || char === 0x7d) depth--;
  }
}
