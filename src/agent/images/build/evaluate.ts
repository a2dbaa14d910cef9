// Turns parsed instructions into what the builder does, step by step, with variables substituted
// where Docker substitutes them: metadata instructions change the image config (no layer);
// COPY/ADD and RUN become actions that produce a layer. Pure: no file system, no containers.
import { posix } from 'node:path';
import type { ContainerConfig } from '../oci.js';
import { processWord, substituteOnly, type Vars } from './expand.js';
import type { CommandForm, Instruction } from './parser.js';

export const defaultShell = ['/bin/sh', '-c'];
const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuildState {
  /** The image config being built (starts as the base image's). */
  config: ContainerConfig;
  shell: string[];
  /** ARGs declared in this stage, with their values (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  /** ARGs declared before FROM (their defaults are what `ARG NAME` after FROM picks up). */
  globalArgs: Map<string, string | undefined>;
  /** --build-arg values. */
  buildArgs: ReadonlyMap<string, string>;
  /** --build-arg names some ARG declared (the others are warned about). */
  usedBuildArgs: Set<string>;
  /** Whether CMD was set in this file (ENTRYPOINT clears an inherited CMD, not one set here). */
  cmdSetHere: boolean;
}

export type StepAction =
  | { kind: 'config' }
  | { kind: 'copy'; add: boolean; sources: string[]; dest: string; destIsDir: boolean; chown?: string; chmod?: number }
  | { kind: 'run'; args: string[]; env: string[]; cwd: string; user: string };

export function initialState(buildArgs: ReadonlyMap<string, string> = new Map()): BuildState {
  return { config: {}, shell: defaultShell, args: new Map(), globalArgs: new Map(), buildArgs, usedBuildArgs: new Set(), cmdSetHere: false };
}

/** Env entries as a map (later entries win). */
export function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
    else if (e) m.set(e, '');
  }
  return m;
}

/** What `$VAR` sees: the stage's ARGs, overridden by ENV (as in Docker). */
export function substitutionVars(state: BuildState): Vars {
  const vars = new Map<string, string>();
  for (const [k, v] of state.args) if (v !== undefined) vars.set(k, v);
  for (const [k, v] of envMap(state.config.Env)) vars.set(k, v);
  return vars;
}

function argValue(state: BuildState, name: string, written: string | undefined, vars: Vars): string | undefined {
  if (state.buildArgs.has(name)) {
    state.usedBuildArgs.add(name);
    return state.buildArgs.get(name);
  }
  return written === undefined ? undefined : processWord(written, vars);
}

/** An ARG line: declares the names, with --build-arg values over the written defaults. */
export function declareArgs(state: BuildState, instr: Extract<Instruction, { kind: 'ARG' }>, global: boolean): void {
  for (const a of instr.args) {
    const vars = global ? globalVars(state) : substitutionVars(state);
    const inherited = global ? undefined : state.globalArgs.get(a.name);
    const value = argValue(state, a.name, a.value ?? inherited, vars);
    (global ? state.globalArgs : state.args).set(a.name, value);
  }
}

function globalVars(state: BuildState): Vars {
  const vars = new Map<string, string>();
  for (const [k, v] of state.globalArgs) if (v !== undefined) vars.set(k, v);
  return vars;
}

/** The FROM image name with the global ARGs substituted. */
export function fromImage(state: BuildState, instr: Extract<Instruction, { kind: 'FROM' }>): string {
  return processWord(instr.image, globalVars(state));
}

function commandArgs(state: BuildState, c: CommandForm): string[] {
  return c.form === 'exec' ? [...c.args] : [...state.shell, c.command];
}

/** Expands a port spec ("80", "8080/tcp", "53/udp", "7000-7002") into ExposedPorts keys. */
export function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new Error(`invalid port ${JSON.stringify(spec)} (want PORT, PORT/tcp, PORT/udp or FROM-TO)`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (from < 1 || to > 65535 || to < from) throw new Error(`invalid port ${JSON.stringify(spec)} (1-65535)`);
  if (to - from > 1024) throw new Error(`port range ${JSON.stringify(spec)} is too large`);
  const out: string[] = [];
  for (let p = from; p <= to; p++) out.push(`${p}/${proto}`);
  return out;
}

/** WORKDIR: relative paths are relative to the previous one. */
export function joinWorkdir(current: string | undefined, path: string): string {
  const p = posix.normalize(path.startsWith('/') ? path : posix.join(current || '/', path));
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/**
 * Applies one instruction (not FROM) to the state; returns what the builder must do. Throws plain
 * Errors (bad port, bad substitution) that the builder reports with the file and line.
 */
export function evaluate(state: BuildState, instr: Instruction): StepAction {
  const vars = substitutionVars(state);
  const word = (s: string) => processWord(s, vars);
  const c = state.config;
  switch (instr.kind) {
    case 'FROM':
      throw new Error('FROM is handled by the builder');
    case 'ARG':
      declareArgs(state, instr, false);
      return { kind: 'config' };
    case 'ENV': {
      const env = envMap(c.Env);
      for (const p of instr.pairs) {
        // each pair sees the variables as they were before this line, as in Docker
        env.set(word(p.key), word(p.value));
      }
      c.Env = [...env].map(([k, v]) => `${k}=${v}`);
      return { kind: 'config' };
    }
    case 'LABEL':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const p of instr.pairs) c.Labels[word(p.key)] = word(p.value);
      return { kind: 'config' };
    case 'EXPOSE':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of instr.ports) for (const key of exposedPorts(word(p))) c.ExposedPorts[key] = {};
      return { kind: 'config' };
    case 'USER': {
      const user = word(instr.value);
      if (!user) throw new Error('USER is empty after substitution');
      c.User = user;
      return { kind: 'config' };
    }
    case 'WORKDIR': {
      const dir = word(instr.value);
      if (!dir) throw new Error('WORKDIR is empty after substitution');
      c.WorkingDir = joinWorkdir(c.WorkingDir, dir);
      return { kind: 'config' };
    }
    case 'STOPSIGNAL':
      c.StopSignal = word(instr.value);
      return { kind: 'config' };
    case 'VOLUME':
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const p of instr.paths) {
        const path = instr.json ? substituteOnly(p, vars) : word(p);
        if (!path) throw new Error('VOLUME path is empty');
        c.Volumes[path] = {};
      }
      return { kind: 'config' };
    case 'SHELL':
      state.shell = [...instr.args];
      return { kind: 'config' };
    case 'CMD':
      c.Cmd = commandArgs(state, instr.command);
      state.cmdSetHere = true;
      return { kind: 'config' };
    case 'ENTRYPOINT':
      c.Entrypoint = commandArgs(state, instr.command);
      if (!state.cmdSetHere) delete c.Cmd;
      return { kind: 'config' };
    case 'COPY':
    case 'ADD': {
      const w = (s: string) => (instr.json ? substituteOnly(s, vars) : word(s));
      const sources = instr.sources.map(w);
      const rawDest = w(instr.dest);
      if (!rawDest) throw new Error(`${instr.kind} destination is empty`);
      const destIsDir = /(^|\/)\.?$/.test(rawDest) || rawDest.endsWith('/');
      if (sources.length > 1 && !destIsDir) throw new Error(`${instr.kind} with more than one source needs a destination directory ending in / (got ${JSON.stringify(rawDest)})`);
      const dest = joinWorkdir(c.WorkingDir, rawDest);
      return {
        kind: 'copy',
        add: instr.kind === 'ADD',
        sources,
        dest,
        destIsDir,
        ...(instr.chown !== undefined ? { chown: word(instr.chown) } : {}),
        ...(instr.chmod !== undefined ? { chmod: Number.parseInt(instr.chmod, 8) } : {}),
      };
    }
    case 'RUN': {
      const env = envMap(c.Env);
      if (!env.has('PATH')) env.set('PATH', defaultPath);
      // ARG values are in RUN's environment (ENV of the same name wins), but not in the image.
      for (const [k, v] of state.args) if (v !== undefined && !envMap(c.Env).has(k)) env.set(k, v);
      return { kind: 'run', args: commandArgs(state, instr.command), env: [...env].map(([k, v]) => `${k}=${v}`), cwd: c.WorkingDir || '/', user: c.User ?? '' };
    }
  }
}
