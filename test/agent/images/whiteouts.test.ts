// Layer unpacking: OCI whiteouts in both representations (overlay lower dirs as root, marker
// files + flattening otherwise), hard links, ownership, and paths that try to leave the layer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore, flattenLayers, overlayLowerdir, unpackLayers, type TarWriteEntry } from '../../../src/agent/images/index.js';
import { addTestImage, getXattr, isRoot, tempDir } from './helpers.js';

const lower: TarWriteEntry[] = [
  { name: 'etc/', type: 'dir', mode: 0o755 },
  { name: 'etc/keep', type: 'file', data: 'keep\n', mode: 0o644, uid: 1000, gid: 1001 },
  { name: 'etc/hard', type: 'link', linkname: 'etc/keep' },
  { name: 'etc/gone', type: 'file', data: 'gone\n' },
  { name: 'etc/gonedir/', type: 'dir' },
  { name: 'etc/gonedir/x', type: 'file', data: 'x' },
  { name: 'opq/', type: 'dir', mode: 0o711 },
  { name: 'opq/old1', type: 'file', data: 'old1' },
  { name: 'opq/sub/', type: 'dir' },
  { name: 'opq/sub/old2', type: 'file', data: 'old2' },
  { name: 'usr/', type: 'dir' },
  { name: 'usr/bin/', type: 'dir' },
  { name: 'usr/bin/tool', type: 'file', data: '#!/bin/sh\n', mode: 0o4755 },
  { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
];
const upper: TarWriteEntry[] = [
  { name: 'etc/', type: 'dir', mode: 0o755 },
  { name: 'etc/.wh.gone', type: 'file', data: '' },
  { name: 'etc/.wh.gonedir', type: 'file', data: '' },
  { name: 'opq/', type: 'dir', mode: 0o711 },
  { name: 'opq/.wh..wh..opq', type: 'file', data: '' },
  { name: 'opq/new', type: 'file', data: 'new' },
];

async function expectMerged(root: string): Promise<void> {
  assert.equal(await readFile(join(root, 'etc/keep'), 'utf8'), 'keep\n');
  assert.equal(await readFile(join(root, 'etc/hard'), 'utf8'), 'keep\n');
  assert.ok(!existsSync(join(root, 'etc/gone')), 'etc/gone is deleted by the upper layer');
  assert.ok(!existsSync(join(root, 'etc/gonedir')), 'etc/gonedir is deleted by the upper layer');
  assert.deepEqual((await readdir(join(root, 'opq'))).sort(), ['new'], 'opq is opaque: only the upper layer\'s content');
  assert.equal(await readlink(join(root, 'bin')), 'usr/bin');
  assert.equal(await readFile(join(root, 'bin/tool'), 'utf8'), '#!/bin/sh\n');
}

describe('layer unpacking and whiteouts', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let store: ImageStore;
  before(async () => {
    t = await tempDir();
    store = await ImageStore.open(join(t.dir, 'store'));
    await addTestImage(store, 'example.com/wh:1', [lower, upper]);
  });
  after(() => t?.cleanup());

  it('keeps OCI marker files with whiteouts: "oci" and applies them when flattening', async () => {
    const dirs = await unpackLayers(store, 'example.com/wh:1', { whiteouts: 'oci' });
    assert.equal(dirs.length, 2);
    assert.ok(dirs.every((d) => d.endsWith('.oci')));
    const [l, u] = dirs as [string, string];
    assert.ok((await lstat(join(u, 'etc/.wh.gone'))).isFile());
    assert.ok((await lstat(join(u, 'opq/.wh..wh..opq'))).isFile());
    const a = await lstat(join(l, 'etc/keep'));
    const b = await lstat(join(l, 'etc/hard'));
    assert.equal(a.ino, b.ino, 'hard link kept');
    assert.equal((await lstat(join(l, 'opq'))).mode & 0o777, 0o711);
    if (isRoot()) {
      assert.deepEqual([a.uid, a.gid], [1000, 1001]);
      assert.equal((await lstat(join(l, 'usr/bin/tool'))).mode & 0o7777, 0o4755, 'setuid kept after chown');
    }
    const merged = join(t.dir, 'merged');
    await flattenLayers(dirs, merged);
    await expectMerged(merged);
    const m1 = await lstat(join(merged, 'etc/keep'));
    assert.equal(m1.ino, (await lstat(join(merged, 'etc/hard'))).ino);
  });

  it('writes overlay whiteouts (char 0/0, trusted.overlay.opaque=y) as root, and overlayfs agrees', { skip: isRoot() ? false : 'overlay whiteouts need root' }, async (ctx) => {
    const dirs = await unpackLayers(store, 'example.com/wh:1', { whiteouts: 'overlay' });
    const [l, u] = dirs as [string, string];
    assert.ok(!l.endsWith('.oci'));
    for (const name of ['etc/gone', 'etc/gonedir']) {
      const st = await lstat(join(u, name));
      assert.ok(st.isCharacterDevice(), `${name} is a character device`);
      assert.equal(st.rdev, 0);
    }
    assert.ok(!existsSync(join(u, 'etc/.wh.gone')));
    assert.ok(!existsSync(join(u, 'opq/.wh..wh..opq')));
    const pythonOk = spawnSync('python3', ['-c', 'import os'], { stdio: 'ignore' }).status === 0;
    if (pythonOk) {
      assert.equal(getXattr(join(u, 'opq'), 'trusted.overlay.opaque'), 'y');
      assert.equal(getXattr(join(u, 'etc'), 'trusted.overlay.opaque'), undefined);
    }
    // The real peer: mount them (skipped where mounting is not allowed).
    const mnt = join(t.dir, 'mnt');
    const upperDir = join(t.dir, 'upper');
    const work = join(t.dir, 'work');
    await Promise.all([mkdir(mnt), mkdir(upperDir), mkdir(work)]);
    const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${overlayLowerdir(dirs)},upperdir=${upperDir},workdir=${work}`, mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      ctx.diagnostic(`overlay mount not possible here (${m.stderr.trim()}); whiteout representation checked without it`);
      return;
    }
    try {
      await expectMerged(mnt);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('refuses ".." and keeps symlinked paths inside the layer', async () => {
    const s = await ImageStore.open(join(t.dir, 'evil'));
    await addTestImage(s, 'example.com/dotdot:1', [[{ name: '../escape', type: 'file', data: 'x' }]]);
    await assert.rejects(unpackLayers(s, 'example.com/dotdot:1', { whiteouts: 'oci' }), /"\.\." component/);
    const outside = join(t.dir, 'outside');
    await mkdir(outside);
    await addTestImage(s, 'example.com/symlink:1', [[
      { name: 'out', type: 'symlink', linkname: outside },
      { name: 'out/file', type: 'file', data: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../../../../../../..' + outside },
      { name: 'rel/file2', type: 'file', data: 'y' },
      { name: 'hl', type: 'link', linkname: 'out/file' },
    ]]);
    const [dir] = await unpackLayers(s, 'example.com/symlink:1', { whiteouts: 'oci' });
    assert.deepEqual(await readdir(outside), [], 'nothing written outside the layer');
    assert.equal(await readFile(join(dir!, outside, 'file'), 'utf8'), 'x');
    assert.equal(await readFile(join(dir!, outside, 'file2'), 'utf8'), 'y');
    assert.equal(await readFile(join(dir!, 'hl'), 'utf8'), 'x');
    assert.equal(await readlink(join(dir!, 'out')), outside, 'the symlink itself is kept as written');
  });

  it('refuses a layer whose content does not match its diff_id and leaves nothing behind', async () => {
    const s = await ImageStore.open(join(t.dir, 'diffid'));
    const img = await addTestImage(s, 'example.com/d:1', [[{ name: 'a', type: 'file', data: 'a' }]]);
    const resolved = await s.resolve('example.com/d:1');
    const wrong = { ...resolved, layers: resolved.layers.map((l) => ({ ...l, diffId: `sha256:${'0'.repeat(64)}` })) };
    await assert.rejects(unpackLayers(s, wrong, { whiteouts: 'oci' }), /diff_id sha256:[0-9a-f]{64}, the image config says sha256:0{64}/);
    assert.deepEqual(await readdir(join(s.root, 'layers')), []);
    assert.ok(img.diffIds[0]);
  });
});
