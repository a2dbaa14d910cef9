// Containerfile / Dockerfile parsing (syntax only; variables are substituted while building, when
// their values are known). Comments, `\` line continuations (comment and empty lines inside a
// continuation are skipped, as Docker does), case-insensitive instructions, JSON (exec) and shell
// forms. Every error names the file and the line.
import { ContainerfileError } from './errors.js';
import { splitWords, SubstitutionError } from './expand.js';

export type CommandForm = { form: 'exec'; args: string[] } | { form: 'shell'; command: string };

interface Base {
  /** 1-based line of the instruction's first line */
  line: number;
  /** the instruction as written (continuations joined), for progress lines and history */
  text: string;
}

export type Instruction = Base &
  (
    | { kind: 'FROM'; image: string; stageName?: string }
    | { kind: 'RUN' | 'CMD' | 'ENTRYPOINT'; command: CommandForm }
    | { kind: 'SHELL'; args: string[] }
    | { kind: 'ENV' | 'LABEL'; pairs: { key: string; value: string }[] }
    | { kind: 'ARG'; args: { name: string; value?: string }[] }
    | { kind: 'COPY' | 'ADD'; sources: string[]; dest: string; json: boolean; chown?: string; chmod?: string }
    | { kind: 'EXPOSE'; ports: string[] }
    | { kind: 'USER' | 'WORKDIR' | 'STOPSIGNAL'; value: string }
    | { kind: 'VOLUME'; paths: string[]; json: boolean }
  );

export type InstructionKind = Instruction['kind'];

const supported = ['FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ENV', 'LABEL', 'ARG', 'COPY', 'ADD', 'EXPOSE', 'USER', 'WORKDIR', 'STOPSIGNAL', 'VOLUME'];
const known = new Set([...supported, 'HEALTHCHECK', 'ONBUILD', 'MAINTAINER']);

/** The logical lines of a Containerfile: continuations joined, comments and blank lines dropped. */
export function logicalLines(content: string): { line: number; text: string }[] {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: { line: number; text: string }[] = [];
  const isComment = (s: string) => /^\s*#/.test(s);
  const continues = (s: string) => /\\\s*$/.test(s);
  const strip = (s: string) => s.replace(/\\\s*$/, '');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    if (isComment(first) || first.trim() === '') continue;
    const start = i + 1;
    let text = first.trimStart();
    let open = continues(text);
    text = strip(text);
    while (open && i + 1 < lines.length) {
      const next = lines[++i]!;
      if (isComment(next) || next.trim() === '') continue;
      open = continues(next);
      text += strip(next);
    }
    out.push({ line: start, text: text.trim() });
  }
  return out;
}

/** Parses a whole Containerfile. `file` is only used in error messages. */
export function parseContainerfile(content: string, file = 'Containerfile'): Instruction[] {
  const out: Instruction[] = [];
  for (const { line, text } of logicalLines(content)) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(text);
    const keyword = (m?.[1] ?? '').toUpperCase();
    const rest = (m?.[2] ?? '').trim();
    const fail = (detail: string): never => {
      throw new ContainerfileError(file, line, detail);
    };
    if (!known.has(keyword)) fail(`unknown instruction ${JSON.stringify(m?.[1] ?? text)} (supported: ${supported.join(', ')})`);
    if (!supported.includes(keyword)) fail(`${keyword} is not supported by nami image build (supported: ${supported.join(', ')})`);
    try {
      out.push({ line, text: `${keyword}${rest ? ` ${rest}` : ''}`, ...parseInstruction(keyword, rest, fail) } as Instruction);
    } catch (e) {
      if (e instanceof SubstitutionError) fail(e.message);
      throw e;
    }
  }
  if (out.length === 0) throw new ContainerfileError(file, 1, 'the file has no instructions');
  const firstReal = out.find((i) => i.kind !== 'ARG');
  if (!firstReal || firstReal.kind !== 'FROM') {
    const at = firstReal ?? out[out.length - 1]!;
    throw new ContainerfileError(file, at.line, `the first instruction must be FROM (only ARG may come before it), got ${at.kind}`);
  }
  const froms = out.filter((i) => i.kind === 'FROM');
  if (froms.length > 1) throw new ContainerfileError(file, froms[1]!.line, 'multi-stage builds (a second FROM) are not supported by nami image build');
  return out;
}

type Fail = (detail: string) => never;

/** `--name=value` / `--name` flags before the arguments. */
function takeFlags(rest: string, allowed: string[], keyword: string, fail: Fail): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let r = rest;
  for (;;) {
    const m = /^--([a-zA-Z-]+)(?:=(\S*))?(?:\s+|$)/.exec(r);
    if (!m) break;
    const name = m[1]!;
    if (!allowed.includes(name)) fail(`${keyword} --${name} is not supported${allowed.length ? ` (supported: ${allowed.map((a) => `--${a}`).join(', ')})` : ''}`);
    flags.set(name, m[2] ?? '');
    r = r.slice(m[0].length);
  }
  return { flags, rest: r.trim() };
}

/** A JSON array of strings, or undefined when `s` is not one (Docker then uses the shell form). */
function jsonArray(s: string): string[] | undefined {
  if (!s.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

function command(keyword: string, rest: string, fail: Fail): CommandForm {
  const json = jsonArray(rest);
  if (json) {
    if (json.length === 0 && keyword === 'RUN') fail('RUN needs a command');
    return { form: 'exec', args: json };
  }
  if (!rest) fail(`${keyword} needs a command`);
  return { form: 'shell', command: rest };
}

/** ENV / LABEL: `k=v k2="v 2"` or the legacy `k value with spaces` (one pair). */
function pairs(keyword: string, rest: string, fail: Fail): { key: string; value: string }[] {
  const words = splitWords(rest);
  if (words.length === 0) fail(`${keyword} needs at least one name=value`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    if (!m) fail(`${keyword} ${words[0]} has no value (use ${keyword} name=value)`);
    return [{ key: m![1]!, value: m![2]!.trim() }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) fail(`${keyword}: ${JSON.stringify(w)} is not of the form name=value`);
    if (eq === 0) fail(`${keyword}: ${JSON.stringify(w)} has an empty name`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

function parseInstruction(keyword: string, rest: string, fail: Fail): Record<string, unknown> {
  switch (keyword) {
    case 'FROM': {
      const { rest: r } = takeFlags(rest, ['platform'], 'FROM', fail);
      const words = splitWords(r);
      if (words.length === 1) return { kind: 'FROM', image: words[0] };
      if (words.length === 3 && words[1]!.toUpperCase() === 'AS') return { kind: 'FROM', image: words[0], stageName: words[2] };
      return fail('FROM needs an image (FROM image [AS name])');
    }
    case 'RUN': {
      const { rest: r } = takeFlags(rest, [], 'RUN', fail);
      return { kind: 'RUN', command: command('RUN', r, fail) };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind: keyword, command: command(keyword, rest, fail) };
    case 'SHELL': {
      const json = jsonArray(rest);
      if (!json || json.length === 0) fail('SHELL needs a JSON array, e.g. SHELL ["/bin/sh", "-c"]');
      return { kind: 'SHELL', args: json };
    }
    case 'ENV':
    case 'LABEL':
      return { kind: keyword, pairs: pairs(keyword, rest, fail) };
    case 'ARG': {
      const words = splitWords(rest);
      if (words.length === 0) fail('ARG needs a name');
      return {
        kind: 'ARG',
        args: words.map((w) => {
          const eq = w.indexOf('=');
          const name = eq < 0 ? w : w.slice(0, eq);
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`ARG: bad name ${JSON.stringify(name)}`);
          return eq < 0 ? { name } : { name, value: w.slice(eq + 1) };
        }),
      };
    }
    case 'COPY':
    case 'ADD': {
      const { flags, rest: r } = takeFlags(rest, keyword === 'COPY' ? ['chown', 'chmod', 'from', 'link'] : ['chown', 'chmod', 'link'], keyword, fail);
      if (flags.has('from')) fail('COPY --from (multi-stage builds) is not supported by nami image build');
      const json = jsonArray(r);
      const words = json ?? splitWords(r);
      if (words.length < 2) fail(`${keyword} needs at least one source and a destination`);
      for (const f of ['chown', 'chmod']) if (flags.has(f) && !flags.get(f)) fail(`${keyword} --${f} needs a value`);
      if (flags.has('chmod') && !/^[0-7]{3,4}$/.test(flags.get('chmod')!)) fail(`${keyword} --chmod=${flags.get('chmod')}: only octal modes (755) are supported`);
      return {
        kind: keyword,
        sources: words.slice(0, -1),
        dest: words[words.length - 1],
        json: json !== undefined,
        ...(flags.has('chown') ? { chown: flags.get('chown') } : {}),
        ...(flags.has('chmod') ? { chmod: flags.get('chmod') } : {}),
      };
    }
    case 'EXPOSE': {
      const ports = splitWords(rest);
      if (ports.length === 0) fail('EXPOSE needs at least one port');
      return { kind: 'EXPOSE', ports };
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
      if (!rest) fail(`${keyword} needs a value`);
      return { kind: keyword, value: rest };
    case 'VOLUME': {
      const json = jsonArray(rest);
      const paths = json ?? splitWords(rest);
      if (paths.length === 0) fail('VOLUME needs at least one path');
      return { kind: 'VOLUME', paths, json: json !== undefined };
    }
    default:
      return fail(`unknown instruction ${keyword}`);
  }
}
