// The agent's reading of CRI log files for containerLogs: partial records
// joined, timestamps as the kubelet prints them, tailLines, sinceTime,
// limitBytes, and follow until the container stops.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rfc3339Nano, streamContainerLog, type ContainerLogOptions } from '../../src/agent/server/container-logs.js';
import { RotatingLogFile, rotatedFiles } from '../../src/agent/runtimes/rotating-log.js';

const dir = mkdtempSync(join(tmpdir(), 'nami-logs-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const log = [
  '2024-01-02T03:04:05.100000000Z stdout F one',
  '2024-01-02T03:04:06.000000000Z stderr F two',
  '2024-01-02T03:04:07.123456789Z stdout P thr',
  '2024-01-02T03:04:07.200000000Z stdout F ee',
  '2024-01-02T03:04:08.000000000Z stdout F four',
  '',
].join('\n');

async function read(path: string, opts: ContainerLogOptions = {}): Promise<string> {
  let out = '';
  await streamContainerLog(path, opts, { write: (t) => void (out += t), closed: () => false });
  return out;
}

describe('container logs from CRI files', () => {
  const file = join(dir, '0.log');
  writeFileSync(file, log);

  it('joins partial records into lines', async () => {
    assert.equal(await read(file), 'one\ntwo\nthree\nfour\n');
  });

  it('prefixes each line with its first record time, trailing zeros trimmed (Go RFC3339Nano)', async () => {
    assert.equal(await read(file, { timestamps: true }), '2024-01-02T03:04:05.1Z one\n2024-01-02T03:04:06Z two\n2024-01-02T03:04:07.123456789Z three\n2024-01-02T03:04:08Z four\n');
    assert.equal(rfc3339Nano('2024-01-02T03:04:05.120000000Z'), '2024-01-02T03:04:05.12Z');
  });

  it('keeps the last tailLines lines, counting joined lines once', async () => {
    assert.equal(await read(file, { tailLines: 2 }), 'three\nfour\n');
    assert.equal(await read(file, { tailLines: 0 }), '');
    assert.equal(await read(file, { tailLines: 10 }), 'one\ntwo\nthree\nfour\n');
  });

  it('starts at sinceTime and stops after limitBytes', async () => {
    assert.equal(await read(file, { sinceMs: Date.parse('2024-01-02T03:04:06Z') }), 'two\nthree\nfour\n');
    assert.equal(await read(file, { limitBytes: 6 }), 'one\ntw');
  });

  it('reads nothing from a run that has not written yet', async () => {
    assert.equal(await read(join(dir, 'missing.log')), '');
  });

  it('follows new records until the container stops', async () => {
    const f = join(dir, 'follow.log');
    writeFileSync(f, '2024-01-02T03:04:05.000000000Z stdout F first\n');
    let running = true;
    let out = '';
    const done = streamContainerLog(f, { follow: true, pollMs: 10, stillRunning: async () => running }, { write: (t) => void (out += t), closed: () => false });
    await waitFor(() => out === 'first\n');
    appendFileSync(f, '2024-01-02T03:04:06.000000000Z stdout F sec');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(out, 'first\n', 'an unfinished record waits for its newline');
    appendFileSync(f, 'ond\n');
    await waitFor(() => out === 'first\nsecond\n');
    appendFileSync(f, '2024-01-02T03:04:07.000000000Z stdout F last\n');
    running = false;
    await done;
    assert.equal(out, 'first\nsecond\nlast\n');
  });

  it('follows into the new file when the writer rotates the log, losing no line', async () => {
    const sub = mkdtempSync(join(dir, 'rotate-'));
    const f = join(sub, '0.log');
    const writer = new RotatingLogFile(f, { maxBytes: 200, maxFiles: 3 });
    const line = (i: number) => `2024-01-02T03:04:05.000000000Z stdout F line ${i}\n`;
    writer.write(line(0));
    let running = true;
    let out = '';
    const done = streamContainerLog(f, { follow: true, pollMs: 10, stillRunning: async () => running }, { write: (t) => void (out += t), closed: () => false });
    await waitFor(() => out === 'line 0\n');
    // Two lines at a time (~50 bytes each, four to a file): some pairs have their first line
    // at the end of the old file and their second in the new one.
    for (let i = 1; i < 40; i += 2) {
      writer.write(line(i));
      writer.write(line(i + 1));
      await waitFor(() => out.endsWith(`line ${i + 1}\n`));
    }
    running = false;
    await done;
    writer.close();
    assert.equal(out, Array.from({ length: 41 }, (_, i) => `line ${i}\n`).join(''));
    assert.ok(rotatedFiles(f).length > 0, 'the log was rotated');
  });

  it('stops following when the reader goes away', async () => {
    const f = join(dir, 'gone.log');
    writeFileSync(f, '2024-01-02T03:04:05.000000000Z stdout F x\n');
    let closed = false;
    const done = streamContainerLog(f, { follow: true, pollMs: 10, stillRunning: async () => true }, { write: () => undefined, closed: () => closed });
    closed = true;
    await done;
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
