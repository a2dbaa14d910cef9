// RuncRuntime's interactive exec and attach with real runc: pipes, a terminal
// that resizes, commands that cannot start, attaching to output and stdin.
// Needs root, runc and /bin/busybox; skips otherwise (fails under CI=true).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RuncRuntime } from '../../../src/agent/runtimes/runc/index.js';
import { ExecStartError, type PodSandboxConfig } from '../../../src/agent/runtime.js';
import type { KubeObject } from '../../../src/api/object.js';
import { waitFor } from '../../apiserver/harness.js';
import { closeTestRuntime, openTestRuntime, runcSkip } from './runc-fixture.js';

const skip = runcSkip('runc exec tests');

const image = 'nami.dev/busybox:latest';

function collect(r: Readable | undefined): () => string {
  let text = '';
  r?.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

describe('RuncRuntime exec and attach (real runc)', { skip, concurrency: false }, () => {
  let root: string;
  let rt: RuncRuntime;
  let uid: string;
  let sleeper: string;
  let talker: string;
  let reader: string;
  let once: string;
  let term: string;

  before(async () => {
    ({ root, rt } = await openTestRuntime('nami-runc-exec-', image));
    uid = `x${process.pid}-${Date.now().toString(36)}`;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ex', namespace: 'default', uid }, spec: { containers: [] } } as unknown as KubeObject;
    const cfg: PodSandboxConfig = { uid, namespace: 'default', name: 'ex', hostname: 'ex', hostNetwork: false, labels: {}, annotations: {}, pod };
    await rt.runPodSandbox(cfg);
    const start = async (name: string, script: string, extra: Record<string, unknown> = {}) =>
      (await rt.startContainer(uid, { name, image, kind: 'regular', attempt: 0, spec: { name, image, command: ['sh', '-c', script], ...extra } })).id;
    sleeper = await start('sleeper', 'exec sleep 3600');
    talker = await start('talker', 'i=0; while true; do echo out $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done');
    reader = await start('reader', 'while read line; do echo "got $line"; done', { stdin: true });
    once = await start('once', 'exec cat', { stdin: true, stdinOnce: true });
    term = await start('term', 'exec sh', { stdin: true, tty: true });
  });

  after(() => closeTestRuntime(root, rt, [uid]));

  it('runs a command with stdout and stderr apart and its exit code', async () => {
    const p = await rt.execStream(uid, sleeper, ['sh', '-c', 'echo out; echo err >&2; exit 3'], { stdin: false, tty: false });
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    assert.equal(await p.exited, 3);
    assert.equal(out(), 'out\n');
    assert.equal(err(), 'err\n');
  });

  it('feeds stdin and ends it', async () => {
    const p = await rt.execStream(uid, sleeper, ['cat'], { stdin: true, tty: false });
    const out = collect(p.stdout);
    p.stdin!.end('hello\nworld\n');
    assert.equal(await p.exited, 0);
    assert.equal(out(), 'hello\nworld\n');
  });

  it('kill ends the command (the client went away)', async () => {
    const p = await rt.execStream(uid, sleeper, ['sh', '-c', 'echo started; exec sleep 1000'], { stdin: false, tty: false });
    const out = collect(p.stdout);
    await waitFor('the command to start', () => (out() === 'started\n' ? true : undefined));
    p.kill();
    assert.equal(await p.exited, 143);
  });

  it('a missing executable is a start error, not output', async () => {
    const p = await rt.execStream(uid, sleeper, ['no-such-command'], { stdin: false, tty: false });
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    await assert.rejects(p.exited, (e: unknown) => e instanceof ExecStartError && /executable file not found/.test(e.message));
    assert.equal(out() + err(), '');
  });

  it('runs under a terminal that resizes', async () => {
    const p = await rt.execStream(uid, sleeper, ['sh'], { stdin: true, tty: true });
    assert.equal(p.stderr, undefined);
    const out = collect(p.stdout);
    p.resize(100, 30);
    // runc applies the size when it handles SIGWINCH, which may be after a command typed at once: ask until it shows.
    await waitFor('the terminal size', () => {
      if (/30 100/.test(out())) return true;
      p.stdin!.write('tty; stty size\r');
      return undefined;
    }, 30_000, 250);
    assert.match(out(), /\/dev\/pts\/\d+/);
    p.resize(120, 40);
    await waitFor('the new size', () => {
      if (/40 120/.test(out())) return true;
      p.stdin!.write('stty size\r');
      return undefined;
    }, 30_000, 250);
    p.stdin!.write('exit 5\r');
    assert.equal(await p.exited, 5);
  });

  it('attach streams output written from now on, stdout and stderr apart', async () => {
    const p = await rt.attach(uid, talker, { stdin: false, tty: false });
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    await waitFor('two new lines on each stream', () => ((out().match(/out \d+\n/g)?.length ?? 0) >= 2 && (err().match(/err \d+\n/g)?.length ?? 0) >= 2 ? true : undefined));
    assert.doesNotMatch(out(), /^out 0\n/, 'earlier output is not replayed');
    p.kill();
    assert.equal(await p.exited, 0);
  });

  it('attach writes to the stdin of a container started with stdin, detaching leaves it running', async () => {
    const first = await rt.attach(uid, reader, { stdin: true, tty: false });
    const out1 = collect(first.stdout);
    first.stdin!.write('one\n');
    await waitFor('the echo of one', () => (out1().includes('got one\n') ? true : undefined));
    first.stdin!.end();
    first.kill();
    await first.exited;
    const second = await rt.attach(uid, reader, { stdin: true, tty: false });
    const out2 = collect(second.stdout);
    second.stdin!.write('two\n');
    await waitFor('the echo of two', () => (out2().includes('got two\n') ? true : undefined));
    second.kill();
    await second.exited;
    assert.equal((await rt.podStatus(uid))?.containers.find((c) => c.id === reader)?.state, 'running');
  });

  it('stdinOnce: the first attach session closes the stdin when it disconnects, the container reads end-of-file', async () => {
    const p = await rt.attach(uid, once, { stdin: true, tty: false });
    const out = collect(p.stdout);
    p.stdin!.write('only line\n');
    await waitFor('the echo', () => (out().includes('only line\n') ? true : undefined));
    assert.equal((await rt.podStatus(uid))?.containers.find((c) => c.id === once)?.state, 'running', 'stdin stays open while attached');
    p.kill();
    await p.exited;
    const ended = await waitFor('cat to end', async () => {
      const c = (await rt.podStatus(uid))?.containers.find((x) => x.id === once);
      return c?.state === 'exited' ? c : undefined;
    });
    assert.equal(ended.exitCode, 0);
    assert.match(readFileSync(rt.containerLogPath(uid, 'once', 0), 'utf8'), / stdout F only line\n/);
  });

  it('attach to a tty container: its terminal takes input and resizes, its output is logged as stdout', async () => {
    const p = await rt.attach(uid, term, { stdin: true, tty: true });
    assert.equal(p.stderr, undefined);
    const out = collect(p.stdout);
    p.resize(100, 30);
    // runc applies the size when it handles SIGWINCH, which may be after a command typed at once: ask until it shows.
    await waitFor('the terminal and its size', () => {
      if (/30 100/.test(out())) return true;
      p.stdin!.write('tty; stty size\r');
      return undefined;
    }, 30_000, 250);
    assert.match(out(), /\/dev\/pts\/\d+/);
    p.stdin!.write('exit 7\r');
    const ended = await waitFor('the shell to exit', async () => {
      const c = (await rt.podStatus(uid))?.containers.find((x) => x.id === term);
      return c?.state === 'exited' ? c : undefined;
    });
    assert.equal(ended.exitCode, 7);
    await p.exited;
    assert.match(readFileSync(rt.containerLogPath(uid, 'term', 0), 'utf8'), / stdout [FP] 30 100\r/);
  });

  it('refuses a container that does not run', async () => {
    await assert.rejects(rt.execStream(uid, 'nope', ['true'], { stdin: false, tty: false }), /not running/);
  });
});
