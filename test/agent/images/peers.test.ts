// Real peers: umoci reads the busybox layout we write and repacks it with a whiteout layer we
// import; skopeo converts it to a docker-archive and an oci-archive that we import.
// Local transports only (no network). Skipped, saying which package to install, when missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore, buildBusyboxImage, flattenLayers, unpackLayers, type BusyboxImage } from '../../../src/agent/images/index.js';
import { hasTool, isRoot, tempDir } from './helpers.js';

const hasBusybox = existsSync('/bin/busybox');

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('real OCI peers', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let store: ImageStore;
  let built: BusyboxImage;
  let layout: string;
  before(async () => {
    t = await tempDir();
    if (!hasBusybox) return;
    store = await ImageStore.open(join(t.dir, 'store'));
    layout = join(t.dir, 'layout');
    built = await buildBusyboxImage(store, { tags: ['nami.dev/busybox:latest'], ociLayoutDir: layout });
  });
  after(() => t?.cleanup());

  const umociSkip = !hasBusybox ? 'needs /bin/busybox (apt-get install -y busybox-static)' : !hasTool('umoci') ? 'umoci is not installed (apt-get install -y umoci)' : false;
  it('umoci unpacks our layout, repacks it with a deletion, and we import and apply the result', { skip: umociSkip }, async () => {
    const bundle = join(t.dir, 'bundle');
    sh('umoci', ['unpack', ...(isRoot() ? [] : ['--rootless']), '--image', `${layout}:latest`, bundle]);
    assert.equal(await readlink(join(bundle, 'rootfs/bin/sh')), 'busybox');
    const ociConfig = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
    assert.deepEqual(ociConfig.process.args, ['sh']);
    await rm(join(bundle, 'rootfs/etc/group'));
    await writeFile(join(bundle, 'rootfs/etc/motd'), 'from umoci\n');
    sh('umoci', ['repack', '--image', `${layout}:v2`, bundle]);

    const other = await ImageStore.open(join(t.dir, 'from-umoci'));
    // umoci copies io.containerd.image.name (nami.dev/busybox:latest) to v2 and sets ref.name "v2"
    const imported = await other.importOciLayout(layout);
    assert.deepEqual(imported.map((i) => i.reference).sort(), ['nami.dev/busybox:latest', 'nami.dev/busybox:v2']);
    const v2 = await other.resolve('nami.dev/busybox:v2');
    assert.equal(v2.layers.length, 2);
    assert.equal(v2.layers[0]!.diffId, built.layer.diffId);
    assert.deepEqual(v2.config.Cmd, ['sh']);
    const dirs = await unpackLayers(other, v2, { whiteouts: 'oci' });
    const merged = join(t.dir, 'umoci-merged');
    await flattenLayers(dirs, merged);
    assert.ok(!existsSync(join(merged, 'etc/group')), 'umoci\'s whiteout deleted etc/group');
    assert.equal(await readFile(join(merged, 'etc/motd'), 'utf8'), 'from umoci\n');
    assert.match(await readFile(join(merged, 'etc/passwd'), 'utf8'), /^root:/);
  });

  const skopeoSkip = !hasBusybox ? 'needs /bin/busybox (apt-get install -y busybox-static)' : !hasTool('skopeo') ? 'skopeo is not installed (apt-get install -y skopeo)' : false;
  it('skopeo turns our layout into a docker-archive and an oci-archive; both import to the same image', { skip: skopeoSkip }, async () => {
    const dockerTar = join(t.dir, 'busybox-docker.tar');
    const ociTar = join(t.dir, 'busybox-oci.tar');
    sh('skopeo', ['--insecure-policy', 'copy', '-q', `oci:${layout}:latest`, `docker-archive:${dockerTar}:example.com/sk/busybox:1`]);
    sh('skopeo', ['--insecure-policy', 'copy', '-q', `oci:${layout}:latest`, `oci-archive:${ociTar}:latest`]);

    const s = await ImageStore.open(join(t.dir, 'from-skopeo'));
    const fromDocker = await s.importTar(dockerTar);
    assert.deepEqual(fromDocker.map((i) => i.reference), ['example.com/sk/busybox:1']);
    const img = await s.resolve('example.com/sk/busybox:1');
    assert.equal(img.id, built.id, 'skopeo keeps the config bytes, so the image ID is the same');
    assert.equal(img.layers[0]!.diffId, built.layer.diffId);
    assert.deepEqual(img.config.Cmd, ['sh']);

    const fromOci = await s.importTar(ociTar, { repository: 'example.com/sk/busybox-oci' });
    assert.deepEqual(fromOci.map((i) => i.reference), ['example.com/sk/busybox-oci:latest']);
    const [dir] = await unpackLayers(s, 'example.com/sk/busybox-oci:latest', { whiteouts: 'oci' });
    assert.equal(await readlink(join(dir!, 'bin/sh')), 'busybox');
    // and skopeo reads our store root directly as an OCI layout
    const inspected = JSON.parse(sh('skopeo', ['--insecure-policy', 'inspect', '--config', `oci:${s.root}:example.com/sk/busybox:1`]));
    assert.deepEqual(inspected.config.Cmd, ['sh']);
  });
});
