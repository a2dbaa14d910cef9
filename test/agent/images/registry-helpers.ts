// A real distribution registry (Debian's docker-registry) on 127.0.0.1 for the pull/push tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { hasTool } from './helpers.js';

export function registryBinary(): string | undefined {
  if (hasTool('docker-registry')) return 'docker-registry';
  return existsSync('/usr/bin/docker-registry') ? '/usr/bin/docker-registry' : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A bcrypt htpasswd line (what docker-registry's htpasswd auth accepts), or undefined without a tool. */
export function htpasswdLine(user: string, password: string): string | undefined {
  if (!hasTool('htpasswd')) return undefined;
  const r = spawnSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface RunningRegistry {
  port: number;
  host: string;
  stop: () => Promise<void>;
}

/** Starts docker-registry serving `dir` on a free loopback port (htpasswd auth when `htpasswd` is given). */
export async function startRegistry(dir: string, opts: { htpasswd?: string } = {}): Promise<RunningRegistry> {
  const bin = registryBinary();
  if (!bin) throw new Error('docker-registry is not installed (apt-get install -y docker-registry)');
  await mkdir(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  let auth = '';
  if (opts.htpasswd) {
    await writeFile(join(dir, 'htpasswd'), `${opts.htpasswd}\n`);
    auth = `auth:\n  htpasswd:\n    realm: nami-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = join(dir, 'config.yml');
  await writeFile(config, [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    auth,
  ].join('\n'));
  const child: ChildProcess = spawn(bin, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const stop = async () => {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not come up on 127.0.0.1:${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, host: `127.0.0.1:${port}`, stop };
}
