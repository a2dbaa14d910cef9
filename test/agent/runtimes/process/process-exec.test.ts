// ProcessRuntime's interactive exec and attach: host processes with the
// container's env, pipes or a terminal, attach to output and a stdin FIFO.
// Needs /bin/busybox (busybox-static); skips without it (fails under CI=true).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ImageStore, buildBusyboxImage } from '../../../../src/agent/images/index.js';
import { ProcessRuntime } from '../../../../src/agent/runtimes/process/index.js';
import { ExecStartError } from '../../../../src/agent/runtime.js';
import type { KubeObject } from '../../../../src/api/object.js';
import { waitFor } from '../../../apiserver/harness.js';

const missing = !existsSync('/bin/busybox') ? '/bin/busybox (busybox-static) missing' : undefined;
if (missing && process.env.CI === 'true') throw new Error(`process runtime tests cannot run under CI: ${missing}`);
const skip = missing ? `needs busybox-static: ${missing}` : false;
const image = 'nami.dev/busybox:latest';

function collect(r: Readable | undefined): () => string {
  let text = '';
  r?.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

describe('ProcessRuntime exec and attach', { skip, concurrency: false }, () => {
  let root: string;
  let rt: ProcessRuntime;
  const uid = `px${process.pid}-${Date.now().toString(36)}`;
  let sleeper: string;
  let reader: string;
  let once: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nami-process-exec-'));
    const images = await ImageStore.open(join(root, 'images'));
    await buildBusyboxImage(images, { tags: [image] });
    rt = await ProcessRuntime.open({ root: join(root, 'state'), images, pollMs: 100, nodeIP: '127.0.0.1' });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'px', namespace: 'default', uid }, spec: { containers: [] } } as unknown as KubeObject;
    await rt.runPodSandbox({ uid, namespace: 'default', name: 'px', hostname: 'px', hostNetwork: false, labels: {}, annotations: {}, pod });
    const start = async (name: string, command: string[], extra: Record<string, unknown> = {}) =>
      (await rt.startContainer(uid, { name, image, kind: 'regular', attempt: 0, spec: { name, image, command, env: [{ name: 'WHO', value: name }], ...extra } })).id;
    sleeper = await start('sleeper', ['sleep', '3600']);
    reader = await start('reader', ['cat'], { stdin: true });
    once = await start('once', ['cat'], { stdin: true, stdinOnce: true });
  });

  after(async () => {
    await rt?.removePod(uid).catch(() => undefined);
    await rt?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("runs a command with the container's env, stdout and stderr apart, and its exit code", async () => {
    const p = await rt.execStream(uid, sleeper, ['sh', '-c', 'echo $WHO; echo err >&2; exit 4'], { stdin: false, tty: false });
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    assert.equal(await p.exited, 4);
    assert.equal(out(), 'sleeper\n');
    assert.equal(err(), 'err\n');
  });

  it('feeds stdin', async () => {
    const p = await rt.execStream(uid, sleeper, ['cat'], { stdin: true, tty: false });
    const out = collect(p.stdout);
    p.stdin!.end('piped\n');
    assert.equal(await p.exited, 0);
    assert.equal(out(), 'piped\n');
  });

  it('runs under a terminal that resizes', async () => {
    const p = await rt.execStream(uid, sleeper, ['sh'], { stdin: true, tty: true });
    const out = collect(p.stdout);
    p.resize(100, 30);
    await waitFor('the terminal size', () => {
      if (/30 100/.test(out())) return true;
      p.stdin!.write('stty size\r');
      return undefined;
    }, 30_000, 250);
    p.stdin!.write('exit 6\r');
    assert.equal(await p.exited, 6);
  });

  it('a missing executable cannot start', async () => {
    await assert.rejects(rt.execStream(uid, sleeper, ['no-such-command'], { stdin: false, tty: false }), (e: unknown) => e instanceof ExecStartError && /executable file not found/.test(e.message));
  });

  it('attach writes to the stdin of a container started with stdin and shows its output', async () => {
    const p = await rt.attach(uid, reader, { stdin: true, tty: false });
    const out = collect(p.stdout);
    p.stdin!.write('hello\n');
    await waitFor('the echo', () => (out().includes('hello\n') ? true : undefined));
    p.kill();
    assert.equal(await p.exited, 0);
  });

  it('stdinOnce: the client ending its input closes the container\'s stdin', async () => {
    const p = await rt.attach(uid, once, { stdin: true, tty: false });
    const out = collect(p.stdout);
    p.stdin!.end('last words\n');
    await waitFor('the echo', () => (out().includes('last words\n') ? true : undefined));
    const ended = await waitFor('cat to end', async () => {
      const c = (await rt.podStatus(uid))?.containers.find((x) => x.id === once);
      return c?.state === 'exited' ? c : undefined;
    });
    assert.equal(ended.exitCode, 0);
    assert.equal(await p.exited, 0);
  });
});
