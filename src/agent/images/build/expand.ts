// Word processing the way Docker's shell lexer does it for the instructions it substitutes in
// (FROM, COPY, ADD, ENV, ARG, LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL): words split on
// unquoted whitespace, quotes removed, backslash escapes, and $VAR / ${VAR} / ${VAR:-default} /
// ${VAR:+alternative} / ${VAR:?message} (and the forms without the colon). Unset variables are "".
// RUN, CMD and ENTRYPOINT are left alone: their shell does the substitution.

export type Vars = ReadonlyMap<string, string>;

export class SubstitutionError extends Error {
  override readonly name = 'SubstitutionError';
}

const nameStart = /[A-Za-z_]/;
const nameChar = /[A-Za-z0-9_]/;

/** Splits on unquoted, unescaped whitespace; quotes and escapes are kept for processWord. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      cur += c;
      if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i]!;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    cur += c;
    if (c === '\\' && i + 1 < s.length) cur += s[++i]!;
    else if (c === '"' || c === "'") quote = c;
  }
  if (quote) throw new SubstitutionError(`unterminated ${quote === '"' ? 'double' : 'single'} quote in ${JSON.stringify(s)}`);
  if (inWord) words.push(cur);
  return words;
}

/** One word: quotes removed, escapes applied, variables substituted. */
export function processWord(word: string, vars: Vars): string {
  let out = '';
  let i = 0;
  const n = word.length;
  while (i < n) {
    const c = word[i]!;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new SubstitutionError(`unterminated single quote in ${JSON.stringify(word)}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = word[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"\\$`'.includes(word[i + 1]!)) {
          out += word[i + 1];
          i += 2;
        } else if (d === '$') {
          const r = substitute(word, i, vars);
          out += r.value;
          i = r.next;
        } else {
          out += d;
          i++;
        }
      }
      if (!closed) throw new SubstitutionError(`unterminated double quote in ${JSON.stringify(word)}`);
    } else if (c === '\\') {
      if (i + 1 < n) out += word[i + 1];
      i += 2;
    } else if (c === '$') {
      const r = substitute(word, i, vars);
      out += r.value;
      i = r.next;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Variables only (quotes and backslashes kept): for the elements of JSON-form COPY/ADD/VOLUME. */
export function substituteOnly(s: string, vars: Vars): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] === '\\' && s[i + 1] === '$') {
      out += '$';
      i += 2;
    } else if (s[i] === '$') {
      const r = substitute(s, i, vars);
      out += r.value;
      i = r.next;
    } else out += s[i++];
  }
  return out;
}

/** words → processed words (ARG/ENV/LABEL/EXPOSE/COPY ...). */
export function processWords(s: string, vars: Vars): string[] {
  return splitWords(s).map((w) => processWord(w, vars));
}

/** The `$...` at `i`: its value and where the text continues. */
function substitute(s: string, i: number, vars: Vars): { value: string; next: number } {
  const next = s[i + 1];
  if (next === undefined) return { value: '$', next: i + 1 };
  if (next === '{') {
    const close = matchingBrace(s, i + 2);
    if (close < 0) throw new SubstitutionError(`missing } in ${JSON.stringify(s)}`);
    const body = s.slice(i + 2, close);
    let j = 0;
    while (j < body.length && (j === 0 ? nameStart : nameChar).test(body[j]!)) j++;
    const name = body.slice(0, j);
    if (!name) throw new SubstitutionError(`bad substitution \${${body}} in ${JSON.stringify(s)}`);
    const rest = body.slice(j);
    const value = vars.get(name);
    if (rest === '') return { value: value ?? '', next: close + 1 };
    const m = /^(:?)([-+?])([\s\S]*)$/.exec(rest);
    if (!m) throw new SubstitutionError(`unsupported modifier in \${${body}} (supported: :- - :+ + :? ?)`);
    const [, colon, op, word] = m as unknown as [string, string, string, string];
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (op === '-') return { value: set ? value! : processWord(word, vars), next: close + 1 };
    if (op === '+') return { value: set ? processWord(word, vars) : '', next: close + 1 };
    if (!set) throw new SubstitutionError(`${name}: ${word ? processWord(word, vars) : 'is not set'}`);
    return { value: value!, next: close + 1 };
  }
  if (!nameStart.test(next)) return { value: '$', next: i + 1 };
  let j = i + 1;
  while (j < s.length && nameChar.test(s[j]!)) j++;
  return { value: vars.get(s.slice(i + 1, j)) ?? '', next: j };
}

function matchingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}
