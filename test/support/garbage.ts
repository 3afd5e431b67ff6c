// Deterministic generator of hostile JSON for the untrusted-input tests (issue 15): wrong types, deep nesting,
// huge arrays and objects, prototype keys, near-valid wire messages with one field broken. The values are JSON
// TEXTS, as a hostile agent writes them on the socket: a value nested 5000 deep cannot even be produced with
// JSON.stringify (it throws), but JSON.parse on the server builds it from text without complaint.
// Seeded, so a failure names the seed and index that reproduce it; no dependency beyond node.

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** JSON text of a value nested `depth` levels deep: `[[[…]]]` or `{"a":{"a":…}}`. */
export function nestedText(depth: number, kind: 'array' | 'object', leaf = '"x"'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

/** Objects whose keys are the names that prototype pollution and naive lookups trip over. */
export const PROTOTYPE_TEXTS: readonly string[] = [
  '{"__proto__":{"polluted":true,"status":"ok"}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"__proto__":null,"toString":1,"valueOf":"x","hasOwnProperty":[],"status":"error","errors":{"length":3}}',
  '{"status":"error","errors":[{"__proto__":{"type":"DMR_INTERNAL_ERROR"}}]}',
  '{"id":"m","__proto__":{"senderId":"x"},"constructor":"y","then":"z"}',
  '{"then":"not a function","toJSON":"nor this"}',
];

const json = (value: unknown): string => JSON.stringify(value);

/** Fixed hostile values every run includes (the findings' own inputs first); each well under 1 MiB. */
export function fixedTexts(): string[] {
  return [
    'null',
    '""',
    '"ok"',
    '0',
    '-1',
    '1e308',
    'true',
    '[]',
    '[null]',
    '{}',
    json({ status: 'ok ' }),
    json({ status: 'error' }),
    json({ status: 'error', errors: null }),
    json({ status: 'error', errors: [null] }),
    json({ status: 'error', errors: 'DMR_INTERNAL_ERROR' }),
    json({ status: 'error', errors: { type: 'DMR_INTERNAL_ERROR' } }),
    json({ status: 'error', errors: [{ type: 7, message: {} }] }),
    json({ status: 'error', errors: [{ type: '', message: '' }] }),
    json({ status: 'error', errors: Array.from({ length: 10_000 }, () => ({ type: 'DMR_INTERNAL_ERROR', message: 'x' })) }),
    json({ status: ['ok'] }),
    json({ status: { ok: true } }),
    nestedText(5000, 'array'),
    nestedText(5000, 'object'),
    `{"status":"error","errors":[${nestedText(5000, 'object')}]}`,
    `{"id":"m1","payload":${nestedText(20_000, 'array')}}`,
    json(Array.from({ length: 100_000 }, (_, index) => index)),
    json(Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`k${index}`, index]))),
    json('x'.repeat(200_000)),
    ...PROTOTYPE_TEXTS,
  ];
}

const WIRE_FIELDS = ['id', 'timestamp', 'senderId', 'recipientId', 'type', 'payload'] as const;

/**
 * `count` generated JSON texts around `template` (a valid wire message): each one replaces, removes or adds one
 * field with a hostile value, or is a hostile value of its own. Deterministic per `seed`.
 */
export function generatedTexts(seed: number, count: number, template: Readonly<Record<string, string>>): string[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const fixed = fixedTexts();
  const hostile = (): string => {
    switch (Math.floor(random() * 7)) {
      case 0:
        return nestedText(1 + Math.floor(random() * 8000), random() < 0.5 ? 'array' : 'object');
      case 1:
        return json(Array.from({ length: Math.floor(random() * 20_000) }, () => pick([0, 'x', null, {}, []])));
      case 2:
        return json('y'.repeat(Math.floor(random() * 100_000)));
      case 3:
        return pick(PROTOTYPE_TEXTS);
      case 4:
        return pick(['-0', '1e308', 'true', 'null', '"\\u0000\\ud800"', '{"":""}']);
      case 5:
        return `{"${pick(['__proto__', 'constructor', 'prototype', 'toString'])}":${pick(fixed)}}`;
      default:
        return pick(fixed);
    }
  };
  const texts: string[] = [];
  for (let index = 0; index < count; index++) {
    const field = pick(WIRE_FIELDS);
    const others = Object.entries(template)
      .filter(([key]) => key !== field)
      .map(([key, value]) => `${json(key)}:${json(value)}`);
    const mutation = Math.floor(random() * 4);
    if (mutation === 0) texts.push(`{${[...others, `${json(field)}:${hostile()}`].join(',')}}`);
    else if (mutation === 1) texts.push(`{${others.join(',')}}`);
    else if (mutation === 2) {
      const original = template[field] === undefined ? [] : [`${json(field)}:${json(template[field])}`];
      texts.push(`{${[...others, ...original, `"${field}${index}":${hostile()}`].join(',')}}`);
    } else texts.push(hostile());
  }
  return texts;
}
