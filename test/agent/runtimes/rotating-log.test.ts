// Container log rotation by size, as the kubelet's containerLogMaxSize and
// containerLogMaxFiles: `<n>.log` renamed to `<n>.log.<timestamp>`, the
// oldest rotated files removed.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RotatingLogFile, rotatedFiles, rotationStamp } from '../../../src/agent/runtimes/rotating-log.js';

const dir = mkdtempSync(join(tmpdir(), 'nami-rotate-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('rotating container log files', () => {
  it('rotates before the file exceeds the size and keeps maxFiles files, the current one included', () => {
    const sub = mkdtempSync(join(dir, 'a-'));
    const path = join(sub, '0.log');
    const log = new RotatingLogFile(path, { maxBytes: 100, maxFiles: 3 });
    const line = (i: number) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`; // 30 bytes
    for (let i = 0; i < 50; i++) log.write(line(i));
    log.close();
    const names = readdirSync(sub).sort();
    assert.equal(names.length, 3, names.join(' '));
    assert.ok(names.includes('0.log'));
    for (const n of names.filter((n) => n !== '0.log')) assert.match(n, /^0\.log\.\d{8}-\d{6}(\.\d+)?$/);
    for (const n of names) assert.ok(statSync(join(sub, n)).size <= 100, `${n} is within the limit`);
    // The newest lines are in the current file, the ones before in the newest rotated file.
    const current = readFileSync(path, 'utf8');
    assert.ok(current.endsWith(line(49)));
    const rotated = rotatedFiles(path);
    assert.equal(rotated.length, 2);
    const all = rotated.map((f) => readFileSync(f, 'utf8')).join('') + current;
    // Three 30-byte lines fit in 100 bytes: 48-49 now, 42-44 and 45-47 before.
    assert.equal(all, Array.from({ length: 8 }, (_, k) => line(42 + k)).join(''));
  });

  it('continues an existing file and counts its size', () => {
    const sub = mkdtempSync(join(dir, 'b-'));
    const path = join(sub, '1.log');
    writeFileSync(path, 'y'.repeat(90));
    const log = new RotatingLogFile(path, { maxBytes: 100, maxFiles: 2 });
    log.write('z'.repeat(20));
    log.close();
    assert.equal(readFileSync(path, 'utf8'), 'z'.repeat(20));
    assert.equal(readFileSync(rotatedFiles(path)[0]!, 'utf8'), 'y'.repeat(90));
  });

  it('names rotated files with the kubelet timestamp format and orders those of one second', () => {
    assert.equal(rotationStamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '20240102-030405');
    const sub = mkdtempSync(join(dir, 'c-'));
    const path = join(sub, '0.log');
    for (const n of ['0.log.20240102-030405.2', '0.log.20240102-030405', '0.log.20240102-030406', '0.log.20240102-030405.10', '10.log.20240102-030401', '0.log.tmp']) writeFileSync(join(sub, n), '');
    assert.deepEqual(
      rotatedFiles(path).map((f) => f.slice(sub.length + 1)),
      ['0.log.20240102-030405', '0.log.20240102-030405.2', '0.log.20240102-030405.10', '0.log.20240102-030406'],
    );
  });
});
