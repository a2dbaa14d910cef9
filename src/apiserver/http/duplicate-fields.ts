// Repeated keys in a request body. JSON.parse and the YAML parser keep a
// repeated key's last value, as kube-apiserver's decoders do, but
// kube-apiserver also reports each repeat under fieldValidation=Strict
// (refused) and Warn (a warning): `duplicate field "spec.paused"` in a JSON
// body, `line 14: key "paused" already set in map` in a YAML one. The text
// is scanned once as it is checked for depth; only a body with a repeat is
// walked again for the repeats' paths.

/** A repeated key of a JSON body: its path as kube-apiserver names it, and where in the text the repeat is. */
export interface JsonDuplicate {
  path: string;
  at: number;
}

/** What a body repeats. */
export type BodyDuplicates =
  | {
      kind: 'json';
      fields: JsonDuplicate[];
      /** Where each member's first occurrence is in the text, by path: unknown fields are ordered among the repeats by it. */
      firstAt: ReadonlyMap<string, number>;
    }
  /** Every YAML body has these, its lines empty when no key repeats: kube-apiserver orders a YAML body's unknown fields otherwise. */
  | { kind: 'yaml'; lines: string[] };

const byBody = new WeakMap<object, BodyDuplicates>();

/** The repeats of the body `value` was decoded from: undefined for a JSON body without any (or a value not decoded here). */
export function bodyDuplicates(value: unknown): BodyDuplicates | undefined {
  return typeof value === 'object' && value !== null ? byBody.get(value) : undefined;
}

/** Whether a body repeats any key (a YAML body's entry is there even when it repeats none). */
export function repeatsAny(repeats: BodyDuplicates | undefined): repeats is BodyDuplicates {
  return repeats !== undefined && (repeats.kind === 'json' || repeats.lines.length > 0);
}

export function setBodyDuplicates(value: unknown, duplicates: BodyDuplicates): void {
  if (typeof value === 'object' && value !== null) byBody.set(value, duplicates);
}

/** scanJson's findings, as bits. */
export const Scan = { tooDeep: 1, duplicates: 2 } as const;

// The scan's stacks, kept between calls: each key's span in the text, where each open container's keys start, and
// whether it is an object.
let keyStarts = new Int32Array(1024);
let keyEnds = new Int32Array(1024);
let levelKeys = new Int32Array(0);
let levelIsObject = new Uint8Array(0);

function sameBytes(raw: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (raw[a + k] !== raw[b + k]) return false;
  return true;
}

/**
 * One pass over JSON text, outside its strings: whether objects and arrays
 * nest more than `limit` levels deep (stopping there), and whether an object
 * repeats a key (as written: a key spelled with other escapes is not seen
 * as the same). Malformed text is not refused here; JSON.parse refuses it.
 */
export function scanJson(raw: Uint8Array, limit: number): number {
  if (levelKeys.length < limit + 2) {
    levelKeys = new Int32Array(limit + 2);
    levelIsObject = new Uint8Array(limit + 2);
  }
  let found = 0;
  let depth = 0;
  let keys = 0;
  // Inside an object, after its `{` or a `,`: the next string is a key.
  let expectKey = false;
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const b = raw[i]!;
    if (b === 0x22) {
      const start = i + 1;
      i = start;
      while (i < n) {
        const c = raw[i]!;
        if (c === 0x5c) i += 2;
        else if (c === 0x22) break;
        else i++;
      }
      if (!expectKey) continue;
      expectKey = false;
      const length = i - start;
      for (let j = levelKeys[depth]!; j < keys; j++) {
        if (keyEnds[j]! - keyStarts[j]! === length && sameBytes(raw, keyStarts[j]!, start, length)) {
          found |= Scan.duplicates;
          break;
        }
      }
      if (keys === keyStarts.length) {
        const starts = new Int32Array(keys * 2);
        starts.set(keyStarts);
        keyStarts = starts;
        const ends = new Int32Array(keys * 2);
        ends.set(keyEnds);
        keyEnds = ends;
      }
      keyStarts[keys] = start;
      keyEnds[keys] = i;
      keys++;
    } else if (b === 0x7b || b === 0x5b) {
      if (++depth > limit) return found | Scan.tooDeep;
      levelKeys[depth] = keys;
      levelIsObject[depth] = b === 0x7b ? 1 : 0;
      expectKey = b === 0x7b;
    } else if (b === 0x7d || b === 0x5d) {
      if (depth > 0) {
        keys = levelKeys[depth]!;
        depth--;
      }
      expectKey = false;
    } else if (b === 0x2c) {
      expectKey = levelIsObject[depth] === 1;
    }
  }
  return found;
}

/**
 * The repeated keys of JSON text that parses, with their paths
 * ("spec.template.spec.containers[0].imagePullPolicy") in the text's order,
 * and where each path first occurs. The text's nesting is bounded (scanJson
 * checked it), so this recurses.
 */
export function jsonDuplicates(text: string): { fields: JsonDuplicate[]; firstAt: Map<string, number> } {
  const fields: JsonDuplicate[] = [];
  const firstAt = new Map<string, number>();
  let pos = 0;
  const space = () => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\n' || text[pos] === '\r' || text[pos] === '\t')) pos++;
  };
  const string = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const value = (path: string): void => {
    space();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const seen = new Set<string>();
      space();
      if (text[pos] === '}') {
        pos++;
        return;
      }
      for (;;) {
        space();
        const at = pos;
        const key = string();
        const member = path ? `${path}.${key}` : key;
        if (seen.has(key)) fields.push({ path: member, at });
        else {
          seen.add(key);
          if (!firstAt.has(member)) firstAt.set(member, at);
        }
        space();
        pos++; // :
        value(member);
        space();
        if (text[pos++] !== ',') return;
      }
    }
    if (c === '[') {
      pos++;
      space();
      if (text[pos] === ']') {
        pos++;
        return;
      }
      for (let i = 0; ; i++) {
        value(`${path}[${i}]`);
        space();
        if (text[pos++] !== ',') return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    while (pos < text.length && !',]} \n\r\t'.includes(text[pos]!)) pos++;
  };
  value('');
  return { fields, firstAt };
}
