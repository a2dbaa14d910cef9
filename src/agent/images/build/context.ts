// The build context: the directory COPY and ADD read from. Sources are relative to it and never
// leave it; `*`, `?` and `[...]` match within one path component, `**` (in ignore files) across
// them. `.containerignore` (or else `.dockerignore`) excludes paths, `!pattern` re-includes.
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';

export class BuildContextError extends Error {
  override readonly name = 'BuildContextError';
}

function globToRegExp(glob: string, crossDirs: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*' && crossDirs) {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++; // "**/" also matches no directory at all
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else if (c === '\\' && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const hasGlob = (s: string) => /[*?[]/.test(s);

interface IgnoreRule {
  re: RegExp;
  negate: boolean;
}

export class BuildContext {
  private constructor(readonly dir: string, private readonly rules: IgnoreRule[], readonly ignoreFile: string | undefined) {}

  static async open(dir: string): Promise<BuildContext> {
    let root: string;
    try {
      root = await realpath(dir);
      if (!(await lstat(root)).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new BuildContextError(`build context ${dir}: ${(e as Error).message}`);
    }
    for (const name of ['.containerignore', '.dockerignore']) {
      const text = await readFile(join(root, name), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const rules: IgnoreRule[] = [];
      for (const raw of text.split(/\r?\n/)) {
        let line = raw.trim();
        if (!line || line.startsWith('#')) continue;
        const negate = line.startsWith('!');
        if (negate) line = line.slice(1).trim();
        const clean = posix.normalize(`/${line}`).slice(1).replace(/\/$/, '');
        if (clean) rules.push({ re: globToRegExp(clean, true), negate });
      }
      return new BuildContext(root, rules, name);
    }
    return new BuildContext(root, [], undefined);
  }

  /** Whether a context-relative path is excluded (the path itself or a parent matched last by a non-! rule). */
  excluded(rel: string): boolean {
    if (this.rules.length === 0 || rel === '') return false;
    const parts = rel.split('/');
    let out = false;
    for (const rule of this.rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          out = !rule.negate;
          break;
        }
      }
    }
    return out;
  }

  abs(rel: string): string {
    return rel ? join(this.dir, rel) : this.dir;
  }

  /** The context-relative paths a COPY/ADD source names (globs expanded); throws when nothing matches. */
  async match(source: string): Promise<string[]> {
    const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
    const norm = posix.normalize(source);
    if (norm === '..' || norm.startsWith('../')) {
      throw new BuildContextError(`${source}: outside the build context`);
    }
    let found: string[];
    if (!hasGlob(clean)) {
      found = (await this.exists(clean)) && !this.excluded(clean) ? [clean] : [];
    } else {
      found = [];
      const segs = clean.split('/');
      const walk = async (base: string, i: number): Promise<void> => {
        if (i === segs.length) {
          if (!this.excluded(base)) found.push(base);
          return;
        }
        const seg = segs[i]!;
        if (!hasGlob(seg)) {
          const next = base ? `${base}/${seg}` : seg;
          if (await this.exists(next)) await walk(next, i + 1);
          return;
        }
        const re = globToRegExp(seg, false);
        const names = await readdir(this.abs(base)).catch(() => [] as string[]);
        for (const n of names.sort()) if (re.test(n)) await walk(base ? `${base}/${n}` : n, i + 1);
      };
      await walk('', 0);
    }
    if (found.length === 0) throw new BuildContextError(`${source}: no such file or directory in the build context${this.ignoreFile ? ` (or excluded by ${this.ignoreFile})` : ''}`);
    // symlinks in the path must not lead out of the context
    for (const rel of found) {
      const parent = posix.dirname(rel);
      const real = await realpath(this.abs(parent === '.' ? '' : parent));
      if (real !== this.dir && !real.startsWith(this.dir + sep)) throw new BuildContextError(`${source}: resolves outside the build context`);
    }
    return found;
  }

  private async exists(rel: string): Promise<boolean> {
    return lstat(this.abs(rel)).then(() => true, () => false);
  }
}
