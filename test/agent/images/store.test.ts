// The image store: the local busybox image, list/inspect/resolve, layer unpacking,
// docker-archive import, digest verification, remove + blob GC.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readFile, readlink, readdir, writeFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  DigestMismatchError, ImageNotFoundError, ImageStore, buildBusyboxImage, normalizeReference, readTar, sha256, unpackLayers, writeTar,
  type BusyboxImage,
} from '../../../src/agent/images/index.js';
import { addTestImage, tempDir } from './helpers.js';

const hasBusybox = existsSync('/bin/busybox');
const skipBusybox = hasBusybox ? false : 'needs /bin/busybox: apt-get install -y busybox-static';

describe('image references', () => {
  it('normalizes the way containerd does', () => {
    assert.equal(normalizeReference('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeReference('busybox:1.36'), 'docker.io/library/busybox:1.36');
    assert.equal(normalizeReference('library/busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeReference('docker.io/busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeReference('index.docker.io/foo/bar:1'), 'docker.io/foo/bar:1');
    assert.equal(normalizeReference('localhost:5000/x'), 'localhost:5000/x:latest');
    assert.equal(normalizeReference('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
    const d = `sha256:${'a'.repeat(64)}`;
    assert.equal(normalizeReference(`nginx@${d}`), `docker.io/library/nginx@${d}`);
    assert.throws(() => normalizeReference('Busybox'), /lowercase/);
    assert.throws(() => normalizeReference('busybox@sha256:12'), /digest/);
  });
});

describe('the tar reader and writer', () => {
  it('round-trips long names, symlinks, hard links and modes', async () => {
    const long = `${'d'.repeat(90)}/${'f'.repeat(80)}`;
    const tar = writeTar([
      { name: 'a/', type: 'dir', mode: 0o750 },
      { name: long, type: 'file', data: 'x', mode: 0o4755, uid: 1000, gid: 1001 },
      { name: 'a/l', type: 'symlink', linkname: `../${long}` },
      { name: 'a/h', type: 'link', linkname: long },
    ]);
    const seen = [];
    for await (const { header, body } of readTar([tar])) {
      let data = '';
      for await (const c of body) data += c.toString();
      seen.push({ name: header.name, type: header.type, mode: header.mode, linkname: header.linkname, data, uid: header.uid });
    }
    assert.deepEqual(seen, [
      { name: 'a/', type: 'dir', mode: 0o750, linkname: '', data: '', uid: 0 },
      { name: long, type: 'file', mode: 0o4755, linkname: '', data: 'x', uid: 1000 },
      { name: 'a/l', type: 'symlink', mode: 0o644, linkname: `../${long}`, data: '', uid: 0 },
      { name: 'a/h', type: 'link', mode: 0o644, linkname: long, data: '', uid: 0 },
    ]);
  });
});

describe('the busybox image', { skip: skipBusybox }, () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let store: ImageStore;
  let built: BusyboxImage;

  before(async () => {
    t = await tempDir();
    store = await ImageStore.open(join(t.dir, 'store'));
    built = await buildBusyboxImage(store, { tags: ['docker.io/library/busybox:1.36', 'nami.dev/busybox:latest'] });
  });
  after(() => t?.cleanup());

  it('is listed under both names with one digest, size and created time', async () => {
    const list = await store.list();
    assert.deepEqual(list.map((i) => i.reference), ['docker.io/library/busybox:1.36', 'nami.dev/busybox:latest']);
    for (const i of list) {
      assert.equal(i.digest, built.digest);
      assert.equal(i.id, built.id);
      assert.ok(i.size > 500_000, `size ${i.size}`);
      assert.ok(i.created && !Number.isNaN(Date.parse(i.created)));
    }
  });

  it('resolves short names, IDs and name@digest to the config and layers', async () => {
    const img = await store.resolve('nami.dev/busybox');
    assert.deepEqual(img.config.Cmd, ['sh']);
    assert.ok(img.config.Env?.some((e) => e.startsWith('PATH=')));
    assert.deepEqual(img.references, ['docker.io/library/busybox:1.36', 'nami.dev/busybox:latest']);
    assert.equal((await store.resolve('busybox:1.36')).digest, built.digest);
    assert.equal((await store.resolve(built.id)).digest, built.digest);
    assert.equal((await store.resolve(built.id.slice(7, 19))).digest, built.digest);
    assert.equal((await store.resolve(`busybox@${built.digest}`)).digest, built.digest);
    assert.equal(await store.find('busybox:latest'), undefined);
    await assert.rejects(store.resolve('nginx'), ImageNotFoundError);
  });

  it('stores the layer under the sha256 of its blob, with the diff_id of the uncompressed tar', async () => {
    const img = await store.resolve('nami.dev/busybox:latest');
    assert.equal(img.layers.length, 1);
    const layer = img.layers[0]!;
    const blob = await readFile(store.blobPath(layer.digest));
    assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, layer.digest);
    assert.equal(blob.length, layer.size);
    assert.equal(sha256(gunzipSync(blob)), layer.diffId);
    const cfg = JSON.parse((await readFile(store.blobPath(img.id))).toString());
    assert.deepEqual(cfg.rootfs.diff_ids, [layer.diffId]);
    // the store root is itself an OCI layout
    const index = JSON.parse(await readFile(join(store.root, 'index.json'), 'utf8'));
    assert.equal(index.manifests.length, 2);
    assert.ok(existsSync(join(store.root, 'oci-layout')));
  });

  it('unpacks into a rootfs with bin/sh → busybox, /etc/passwd and a sticky /tmp, once', async () => {
    const dirs = await unpackLayers(store, 'nami.dev/busybox');
    assert.equal(dirs.length, 1);
    const root = dirs[0]!;
    assert.equal(await readlink(join(root, 'bin/sh')), 'busybox');
    assert.equal(await readlink(join(root, 'usr/bin/wget')), '../../bin/busybox');
    assert.equal(await realpath(join(root, 'usr/bin/wget')), join(await realpath(root), 'bin/busybox'));
    assert.equal((await lstat(join(root, 'bin/busybox'))).mode & 0o777, 0o755);
    assert.equal((await lstat(join(root, 'tmp'))).mode & 0o7777, 0o1777);
    assert.match(await readFile(join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
    assert.match(await readFile(join(root, 'etc/group'), 'utf8'), /nobody:x:65534:/);
    for (const applet of ['sh', 'ls', 'cat', 'echo', 'sleep']) assert.ok((await lstat(join(root, 'bin', applet))).isSymbolicLink(), applet);
    for (const applet of ['nc', 'wget']) assert.ok((await lstat(join(root, 'usr/bin', applet))).isSymbolicLink(), applet);
    assert.ok((await lstat(join(root, 'usr/sbin/httpd'))).isSymbolicLink());
    const again = await unpackLayers(store, 'docker.io/library/busybox:1.36');
    assert.deepEqual(again, dirs);
    assert.deepEqual((await readdir(join(store.root, 'layers'))).filter((n) => !n.startsWith('.')).length, 1);
  });

  it('builds the same digest from the same binary', async () => {
    const t2 = await tempDir();
    try {
      const other = await buildBusyboxImage(await ImageStore.open(t2.dir));
      assert.equal(other.layer.diffId, built.layer.diffId);
      assert.ok(other.references.includes('nami.dev/busybox:latest'));
    } finally {
      await t2.cleanup();
    }
  });
});

describe('docker-archive import', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let store: ImageStore;
  const layerTar = writeTar([
    { name: 'hello/', type: 'dir', mode: 0o755 },
    { name: 'hello/world.txt', type: 'file', data: 'hello, world\n', mode: 0o640 },
    { name: 'hello/link', type: 'symlink', linkname: 'world.txt' },
  ]);
  const diffId = sha256(layerTar);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-05-01T12:00:00Z',
    config: { Entrypoint: ['/hello/run'], Cmd: ['--port', '8080'], Env: ['A=1'], WorkingDir: '/hello', User: '65534', ExposedPorts: { '8080/tcp': {} }, Labels: { app: 'hello' } },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  }));
  const configHex = sha256(config).slice(7);

  function dockerArchive(opts: { layer?: Buffer; repoTags?: string[] } = {}): Buffer {
    const layerId = 'f'.repeat(64);
    return writeTar([
      { name: `${configHex}.json`, type: 'file', data: config },
      { name: `${layerId}/`, type: 'dir' },
      { name: `${layerId}/VERSION`, type: 'file', data: '1.0' },
      { name: `${layerId}/json`, type: 'file', data: '{}' },
      { name: `${layerId}/layer.tar`, type: 'file', data: opts.layer ?? layerTar },
      { name: 'manifest.json', type: 'file', data: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: opts.repoTags ?? ['hello:v1'], Layers: [`${layerId}/layer.tar`] }]) },
      { name: 'repositories', type: 'file', data: JSON.stringify({ hello: { v1: layerId } }) },
    ]);
  }

  before(async () => {
    t = await tempDir();
    store = await ImageStore.open(join(t.dir, 'store'));
  });
  after(() => t?.cleanup());

  it('converts the image to an OCI manifest with the config digest as the ID and the layer digest = diff_id', async () => {
    const file = join(t.dir, 'hello.tar');
    await writeFile(file, dockerArchive());
    const imported = await store.importTar(file);
    assert.deepEqual(imported.map((i) => i.reference), ['docker.io/library/hello:v1']);
    assert.equal(imported[0]!.id, `sha256:${configHex}`);
    const img = await store.resolve('hello:v1');
    assert.equal(img.id, `sha256:${configHex}`);
    assert.deepEqual(img.layers.map((l) => [l.digest, l.diffId]), [[diffId, diffId]]);
    assert.deepEqual(img.config, { Entrypoint: ['/hello/run'], Cmd: ['--port', '8080'], Env: ['A=1'], WorkingDir: '/hello', User: '65534', ExposedPorts: { '8080/tcp': {} }, Labels: { app: 'hello' } });
    assert.equal(img.created, '2024-05-01T12:00:00Z');
    const manifest = JSON.parse((await readFile(store.blobPath(img.digest))).toString());
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
    const [dir] = await unpackLayers(store, img);
    assert.equal(await readFile(join(dir!, 'hello/world.txt'), 'utf8'), 'hello, world\n');
    assert.equal((await lstat(join(dir!, 'hello/world.txt'))).mode & 0o777, 0o640);
    assert.equal(await readlink(join(dir!, 'hello/link')), 'world.txt');
  });

  it('takes a reference for an archive saved without tags, and a gzip\'d archive', async () => {
    const { gzipSync } = await import('node:zlib');
    const file = join(t.dir, 'untagged.tar.gz');
    await writeFile(file, gzipSync(dockerArchive({ repoTags: [] })));
    await assert.rejects(store.importPath(file), /no RepoTags/);
    const imported = await store.importPath(file, { reference: 'example.com/hello:untagged' });
    assert.equal(imported[0]!.reference, 'example.com/hello:untagged');
  });

  it('refuses a layer whose content does not match the config diff_id', async () => {
    const bad = Buffer.from(layerTar);
    bad[600] = bad[600]! ^ 0xff; // inside world.txt's data
    const file = join(t.dir, 'bad.tar');
    await writeFile(file, dockerArchive({ layer: bad, repoTags: ['bad:v1'] }));
    await assert.rejects(store.importTar(file), (e: unknown) => e instanceof DigestMismatchError && /diff_id/.test(e.message) && e.message.includes(diffId));
    assert.equal(await store.find('bad:v1'), undefined);
  });

  it('refuses a config whose content does not match its name', async () => {
    const archive = dockerArchive({ repoTags: ['badcfg:v1'] });
    // flip a byte inside the config JSON (first entry's data starts at 512)
    const i = archive.indexOf(Buffer.from('"amd64"'));
    archive[i + 1] = 'x'.charCodeAt(0);
    // fix the header checksum is not needed: data is not covered by it
    const file = join(t.dir, 'badcfg.tar');
    await writeFile(file, archive);
    await assert.rejects(store.importTar(file), DigestMismatchError);
  });

  it('refuses a tar that is neither format', async () => {
    const file = join(t.dir, 'neither.tar');
    await writeFile(file, writeTar([{ name: 'x', type: 'file', data: 'x' }]));
    await assert.rejects(store.importTar(file), /neither a docker-archive.*nor an OCI image layout/);
  });
});

describe('OCI layout import and verification', { skip: skipBusybox }, () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    t = await tempDir();
  });
  after(() => t?.cleanup());

  it('imports a layout written by another store (tag-only ref.name needs a repository unless the full name is annotated)', async () => {
    const a = await ImageStore.open(join(t.dir, 'a'));
    const built = await buildBusyboxImage(a, { tags: ['nami.dev/busybox:latest'], ociLayoutDir: join(t.dir, 'layout') });
    const b = await ImageStore.open(join(t.dir, 'b'));
    const imported = await b.importOciLayout(join(t.dir, 'layout'));
    assert.deepEqual(imported, [{ reference: 'nami.dev/busybox:latest', digest: built.digest, id: built.id }]);
    // without io.containerd.image.name, "latest" alone is only a tag
    const index = JSON.parse(await readFile(join(t.dir, 'layout/index.json'), 'utf8'));
    delete index.manifests[0].annotations['io.containerd.image.name'];
    await writeFile(join(t.dir, 'layout/index.json'), JSON.stringify(index));
    const c = await ImageStore.open(join(t.dir, 'c'));
    await assert.rejects(c.importOciLayout(join(t.dir, 'layout')), /only by the tag "latest".*repository/);
    const named = await c.importOciLayout(join(t.dir, 'layout'), { repository: 'example.com/tools/busybox' });
    assert.equal(named[0]!.reference, 'example.com/tools/busybox:latest');
  });

  it('refuses a corrupted layer blob with a digest mismatch and imports nothing', async () => {
    const a = await ImageStore.open(join(t.dir, 'a2'));
    const built = await buildBusyboxImage(a, { tags: ['nami.dev/busybox:latest'], ociLayoutDir: join(t.dir, 'corrupt') });
    const blob = join(t.dir, 'corrupt/blobs/sha256', built.layer.digest.slice(7));
    const bytes = await readFile(blob);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
    await writeFile(blob, bytes);
    const b = await ImageStore.open(join(t.dir, 'b2'));
    await assert.rejects(b.importOciLayout(join(t.dir, 'corrupt')), (e: unknown) => {
      assert.ok(e instanceof DigestMismatchError, String(e));
      assert.match(e.message, /digest mismatch for layer 0/);
      assert.equal(e.expected, built.layer.digest);
      return true;
    });
    assert.deepEqual(await b.list(), []);
    assert.ok(!existsSync(join(b.root, 'blobs/sha256', built.layer.digest.slice(7))));
  });

  it('picks the host platform from a multi-platform index and refuses a foreign-only one', async () => {
    const a = await ImageStore.open(join(t.dir, 'a3'));
    const built = await buildBusyboxImage(a, { tags: ['nami.dev/busybox:latest'] });
    const layout = join(t.dir, 'multi');
    await a.exportOciLayout(layout, ['nami.dev/busybox:latest']);
    // an arm64 sibling: same layers, another config
    const cfg = JSON.parse((await a.readBlob(built.id)).toString());
    const host = cfg.architecture;
    const otherArch = host === 'amd64' ? 'arm64' : 'amd64';
    const otherCfg = Buffer.from(JSON.stringify({ ...cfg, architecture: otherArch }));
    const manifest = JSON.parse((await a.readBlob(built.digest)).toString());
    const otherManifest = Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, digest: sha256(otherCfg), size: otherCfg.length } }));
    const put = async (b: Buffer) => writeFile(join(layout, 'blobs/sha256', sha256(b).slice(7)), b);
    await put(otherCfg);
    await put(otherManifest);
    const hostManifest = await a.readBlob(built.digest);
    const idx = (archs: [Buffer, string][]) => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: archs.map(([m, arch]) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(m), size: m.length, platform: { os: 'linux', architecture: arch } })),
    }));
    const both = idx([[otherManifest, otherArch], [hostManifest, host]]);
    const foreign = idx([[otherManifest, otherArch]]);
    await put(both);
    await put(foreign);
    const top = (i: Buffer, name: string) => ({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(i), size: i.length, annotations: { 'org.opencontainers.image.ref.name': name } });
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top(both, 'example.com/multi:1')] }));
    const b = await ImageStore.open(join(t.dir, 'b3'));
    const imported = await b.importOciLayout(layout);
    assert.deepEqual(imported, [{ reference: 'example.com/multi:1', digest: built.digest, id: built.id }]);
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top(foreign, 'example.com/foreign:1')] }));
    await assert.rejects(b.importOciLayout(layout), new RegExp(`no manifest for linux/${host} \\(it has linux/${otherArch}\\)`));
  });
});

describe('remove and garbage collection', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    t = await tempDir();
  });
  after(() => t?.cleanup());

  it('removes names, then blobs and unpacked layers no image uses; shared layers stay', async () => {
    const store = await ImageStore.open(join(t.dir, 's'));
    const base = [{ name: 'etc/', type: 'dir' as const }, { name: 'etc/os-release', type: 'file' as const, data: 'ID=test\n' }];
    const a = await addTestImage(store, 'example.com/a:1', [base, [{ name: 'a', type: 'file', data: 'a' }]], { Cmd: ['a'] });
    const b = await addTestImage(store, 'example.com/b:1', [base, [{ name: 'b', type: 'file', data: 'b' }]], { Cmd: ['b'] });
    await store.tag('example.com/a:1', 'example.com/a:latest');
    await unpackLayers(store, 'example.com/a:1', { whiteouts: 'oci' });
    await unpackLayers(store, 'example.com/b:1', { whiteouts: 'oci' });
    assert.equal(a.diffIds[0], b.diffIds[0]);
    assert.equal((await readdir(join(store.root, 'layers'))).length, 3);
    const blobsBefore = (await readdir(join(store.root, 'blobs/sha256'))).length;
    assert.equal(blobsBefore, 7); // 2 manifests, 2 configs, 3 layers

    // one of two names: nothing collected
    const r1 = await store.remove('example.com/a:latest');
    assert.deepEqual(r1, { removed: ['example.com/a:latest'], deletedBlobs: [], deletedLayers: [] });
    // by ID: every name of the image, then its own blobs and layer
    const r2 = await store.remove(a.id);
    assert.deepEqual(r2.removed, ['example.com/a:1']);
    assert.equal(r2.deletedBlobs.length, 3);
    assert.ok(r2.deletedBlobs.includes(a.digest) && r2.deletedBlobs.includes(a.id));
    assert.deepEqual(r2.deletedLayers, [a.diffIds[1]]);
    assert.ok(existsSync(store.layerDir(a.diffIds[0]!, 'oci')), 'the shared base layer stays');
    assert.deepEqual((await store.list()).map((i) => i.reference), ['example.com/b:1']);
    await assert.rejects(store.remove('example.com/a:1'), ImageNotFoundError);

    const r3 = await store.remove('example.com/b:1');
    assert.equal(r3.deletedBlobs.length, 4);
    assert.deepEqual(await readdir(join(store.root, 'blobs/sha256')), []);
    assert.deepEqual(await readdir(join(store.root, 'layers')), []);
  });

  it('keeps the index consistent under concurrent imports', async () => {
    const store = await ImageStore.open(join(t.dir, 'c'));
    await Promise.all(Array.from({ length: 8 }, (_, i) => addTestImage(store, `example.com/c:${i}`, [[{ name: `f${i}`, type: 'file', data: String(i) }]])));
    assert.equal((await store.list()).length, 8);
  });
});
