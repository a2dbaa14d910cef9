// `nami image build` end to end on the image store: FROM the local busybox image with COPY, ADD,
// RUN (in runc, with a whiteout and an opaque dir), ENV, WORKDIR, USER, ENTRYPOINT/CMD, LABEL,
// EXPOSE; the stored config and layers; failures and cleanup; and real OCI peers (umoci, skopeo)
// reading the saved image. Needs root, runc and busybox-static (fails instead of skipping under CI=true).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ImageStore, buildBusyboxImage, flattenLayers, readTar, saveOciArchive, unpackLayers, writeTar } from '../../../src/agent/images/index.js';
import { BuildStepError, ContainerfileError, RunFailedError, buildImage } from '../../../src/agent/images/build/index.js';
import { hasTool, tempDir } from './helpers.js';

const runcBin = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p)) ?? (spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim() || undefined);
const missing = process.getuid?.() !== 0 ? 'not root' : !runcBin ? 'runc not found' : !existsSync('/bin/busybox') ? '/bin/busybox (busybox-static) missing' : undefined;
if (missing && process.env.CI === 'true') throw new Error(`image build tests cannot run under CI: ${missing}`);
const skip = missing ? `needs root, runc and busybox-static: ${missing}` : false;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Names in a layer blob (gzip'd tar), with their types. */
async function layerEntries(store: ImageStore, digest: string): Promise<Map<string, { type: string; uid: number; size: number }>> {
  const out = new Map<string, { type: string; uid: number; size: number }>();
  for await (const { header } of readTar([gunzipSync(await store.readBlob(digest))])) out.set(header.name, { type: header.type, uid: header.uid, size: header.size });
  return out;
}

/** Build mounts, runc state and temp dirs left under the store. */
function leftovers(root: string): string[] {
  const mounts = readFileSyncSafe('/proc/mounts').split('\n').filter((l) => l.includes(root));
  const tmp = readdirSync(join(root, 'tmp')).filter((n) => n.startsWith('build-'));
  return [...mounts, ...tmp];
}
function readFileSyncSafe(p: string): string {
  return spawnSync('cat', [p], { encoding: 'utf8' }).stdout;
}

describe('nami image build', { skip, concurrency: false }, () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let store: ImageStore;
  let ctx: string;

  before(async () => {
    t = await tempDir('nami-build-');
    store = await ImageStore.open(join(t.dir, 'store'));
    await buildBusyboxImage(store, { tags: ['nami.dev/busybox:latest'] });
    ctx = join(t.dir, 'ctx');
    await mkdir(join(ctx, 'site', 'css'), { recursive: true });
    await writeFile(join(ctx, 'hello.sh'), '#!/bin/sh\necho "hello from $APP_NAME as $(id -u) in $(pwd)"\n', { mode: 0o755 });
    await writeFile(join(ctx, 'site', 'index.html'), '<h1>hi</h1>\n');
    await writeFile(join(ctx, 'site', 'css', 'a.css'), 'h1{}\n');
    await writeFile(join(ctx, 'site', 'secret.key'), 'do not ship\n');
    await writeFile(join(ctx, '.containerignore'), '# keys stay out\n**/*.key\n');
    await writeFile(join(ctx, 'bundle.tar'), writeTar([{ name: 'opt/', type: 'dir' }, { name: 'opt/tool/', type: 'dir' }, { name: 'opt/tool/VERSION', type: 'file', data: '1.2.3\n', uid: 42, gid: 42 }]));
  });
  after(async () => {
    if (t) {
      for (const m of readFileSyncSafe('/proc/mounts').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(t.dir)).reverse()) spawnSync('umount', ['-l', m]);
      await t.cleanup();
    }
  });

  it('builds FROM nami.dev/busybox: config, one layer per COPY/ADD/RUN, whiteouts, and the RUN output', async () => {
    await writeFile(join(ctx, 'Containerfile'), [
      '# a small app',
      'FROM nami.dev/busybox',
      'ARG VERSION=0.1',
      'ENV APP_NAME=hello \\',
      '    APP_HOME=/srv/app',
      'WORKDIR $APP_HOME',
      'COPY hello.sh ./bin/',
      'COPY --chown=nobody:nobody site /var/www/',
      'ADD bundle.tar /',
      'RUN echo "v$VERSION" > /greeting && rm /bin/ping && rm -rf /home && mkdir -p /home/new && echo ran in $(pwd)',
      'USER nobody',
      'EXPOSE 80 8443/tcp',
      'LABEL org.opencontainers.image.version=$VERSION maintainer="nami tests"',
      'ENTRYPOINT ["/srv/app/bin/hello.sh"]',
      'CMD ["--verbose"]',
    ].join('\n'));
    const lines: string[] = [];
    let output = '';
    const built = await buildImage(store, { context: ctx, tags: ['localhost/hello:1'], buildArgs: { VERSION: '2.0' }, runc: runcBin!, onProgress: (l) => lines.push(l), onOutput: (c) => (output += c) });
    assert.deepEqual(lines.filter((l) => l.startsWith('STEP')).map((l) => l.replace(/:.*/, '')), Array.from({ length: 13 }, (_, i) => `STEP ${i + 1}/13`));
    assert.equal(lines[0], 'STEP 1/13: FROM nami.dev/busybox');
    assert.equal(lines.at(-1), built.id.slice(7), 'the last line is the image ID');
    assert.ok(lines.includes('Successfully tagged localhost/hello:1'));
    assert.equal(output, 'ran in /srv/app\n');

    const img = await store.resolve('localhost/hello:1');
    assert.equal(img.id, built.id);
    assert.deepEqual(img.config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_NAME=hello', 'APP_HOME=/srv/app']);
    assert.equal(img.config.WorkingDir, '/srv/app');
    assert.equal(img.config.User, 'nobody');
    assert.deepEqual(img.config.Entrypoint, ['/srv/app/bin/hello.sh']);
    assert.deepEqual(img.config.Cmd, ['--verbose']);
    assert.deepEqual(img.config.ExposedPorts, { '80/tcp': {}, '8443/tcp': {} });
    assert.equal(img.config.Labels?.['org.opencontainers.image.version'], '2.0');
    assert.equal(img.config.Labels?.maintainer, 'nami tests');
    assert.equal(img.layers.length, 5, 'busybox + COPY + COPY + ADD + RUN');
    const cfg = await store.readJsonBlob<{ history: { created_by?: string; empty_layer?: boolean }[]; rootfs: { diff_ids: string[] } }>(img.id);
    assert.equal(cfg.history.filter((h) => !h.empty_layer).length, 5, 'one non-empty history entry per layer');
    assert.deepEqual(cfg.rootfs.diff_ids, img.layers.map((l) => l.diffId));

    const copy = await layerEntries(store, img.layers[1]!.digest);
    assert.equal(copy.get('srv/app/bin/hello.sh')?.type, 'file');
    const www = await layerEntries(store, img.layers[2]!.digest);
    assert.equal(www.get('var/www/index.html')?.uid, 65534, '--chown');
    assert.ok(!www.has('var/www/secret.key'), '.containerignore keeps *.key out');
    const add = await layerEntries(store, img.layers[3]!.digest);
    assert.equal(add.get('opt/tool/VERSION')?.uid, 42, 'ADD unpacks a local tar, keeping its owners');
    const run = await layerEntries(store, img.layers[4]!.digest);
    assert.ok(run.has('greeting'));
    assert.equal(run.get('bin/.wh.ping')?.type, 'file', 'the deleted applet link is an OCI whiteout');
    assert.ok(run.has('home/.wh..wh..opq'), 'a directory removed and made again is opaque');
    assert.ok(![...run.keys()].some((k) => /^(proc|sys|dev)\//.test(k)), 'mount points are not in the layer');

    // applied in order (the layers' OCI whiteouts), the result is what the Containerfile says
    const merged = join(t.dir, 'merged');
    await flattenLayers(await unpackLayers(store, img, { whiteouts: 'oci' }), merged);
    assert.equal(await readFile(join(merged, 'greeting'), 'utf8'), 'v2.0\n');
    assert.ok(!existsSync(join(merged, 'bin/ping')));
    assert.equal(await readlink(join(merged, 'bin/ls')), 'busybox');
    assert.deepEqual(readdirSync(join(merged, 'home')), ['new']);
    assert.equal((await stat(join(merged, 'srv/app/bin/hello.sh'))).mode & 0o777, 0o755);
    assert.equal(await readFile(join(merged, 'opt/tool/VERSION'), 'utf8'), '1.2.3\n');
    assert.deepEqual(leftovers(store.root), []);
  });

  it('a failing RUN stops the build with its exit code and output, and leaves nothing behind', async () => {
    await writeFile(join(ctx, 'Fail'), 'FROM nami.dev/busybox\nRUN echo before\nRUN echo oops >&2; exit 7\nRUN echo never\n');
    const lines: string[] = [];
    let output = '';
    await assert.rejects(
      buildImage(store, { context: ctx, file: join(ctx, 'Fail'), tags: ['localhost/fail:1'], runc: runcBin!, onProgress: (l) => lines.push(l), onOutput: (c) => (output += c) }),
      (e: unknown) => e instanceof RunFailedError && e.exitCode === 7 && e.output === 'oops\n' && /STEP 3\/4: RUN echo oops >&2; exit 7: the command exited with code 7/.test(e.message),
    );
    assert.equal(output, 'before\noops\n');
    assert.ok(!lines.some((l) => l.startsWith('STEP 4/4')));
    assert.equal(await store.find('localhost/fail:1'), undefined);
    assert.deepEqual(leftovers(store.root), []);
    assert.deepEqual(readdirSync(store.root).filter((n) => n.includes('runc')), []);
  });

  it('RUN has only a loopback network and runs as the image USER, with its HOME', async () => {
    await writeFile(join(ctx, 'Net'), 'FROM nami.dev/busybox\nUSER nobody\nRUN id -u; echo $HOME; ip -o link | sed "s/^[0-9]*: \\([a-z0-9]*\\).*/\\1/"; ip -o addr show lo | grep -c 127.0.0.1\n');
    let output = '';
    await buildImage(store, { context: ctx, file: join(ctx, 'Net'), tags: ['localhost/net:1'], runc: runcBin!, onOutput: (c) => (output += c) });
    assert.equal(output, '65534\n/nonexistent\nlo\n1\n');
  });

  it('FROM scratch with COPY makes a one-layer image', async () => {
    await writeFile(join(ctx, 'Scratch'), 'FROM scratch\nCOPY site/index.html /\nCMD ["/index.html"]\n');
    const built = await buildImage(store, { context: ctx, file: join(ctx, 'Scratch'), tags: ['localhost/scratch'], runc: runcBin! });
    assert.deepEqual(built.references, ['localhost/scratch:latest']);
    const img = await store.resolve('localhost/scratch');
    assert.equal(img.layers.length, 1);
    assert.deepEqual([...(await layerEntries(store, img.layers[0]!.digest)).keys()], ['index.html']);
  });

  it('clear errors: missing base image, missing source, URLs in ADD, unknown user, bad syntax with file and line', async () => {
    const build = async (content: string) => {
      await writeFile(join(ctx, 'Err'), content);
      return buildImage(store, { context: ctx, file: join(ctx, 'Err'), tags: ['localhost/err:1'], runc: runcBin! });
    };
    await assert.rejects(build('FROM nami.dev/nothere:1\n'), /STEP 1\/1: FROM nami.dev\/nothere:1: image "nami.dev\/nothere:1" is not in the image store; pull it first \(nami image pull nami.dev\/nothere:1\)/);
    await assert.rejects(build('FROM nami.dev/busybox\nCOPY nope.txt /\n'), (e: unknown) => e instanceof BuildStepError && /nope.txt: no such file or directory in the build context/.test(e.message));
    await assert.rejects(build('FROM nami.dev/busybox\nCOPY site/secret.key /\n'), /excluded by \.containerignore/);
    await assert.rejects(build('FROM nami.dev/busybox\nCOPY ../etc/passwd /\n'), /outside the build context/);
    await assert.rejects(build('FROM nami.dev/busybox\nADD https://example.com/x.tar /\n'), /URLs are not supported/);
    await assert.rejects(build('FROM nami.dev/busybox\nCOPY --chown=ghost hello.sh /\n'), /--chown=ghost: unable to find user ghost/);
    await assert.rejects(build('FROM nami.dev/busybox\nUSER ghost\nRUN true\n'), /USER ghost: unable to find user ghost/);
    await assert.rejects(build('FROM nami.dev/busybox\n\nEXPOSE web\n'), (e: unknown) => e instanceof ContainerfileError && e.line === 3 && /Err:3: invalid port "web"/.test(e.message));
    await assert.rejects(build('FROM nami.dev/busybox\nONBUILD RUN true\n'), /Err:2: ONBUILD is not supported/);
    assert.equal(await store.find('localhost/err:1'), undefined);
    assert.deepEqual(leftovers(store.root), []);
  });

  const peerSkip = !hasTool('umoci') ? 'umoci is not installed (apt-get install -y umoci)' : !hasTool('skopeo') ? 'skopeo is not installed (apt-get install -y skopeo)' : false;
  it('the saved image is valid OCI for skopeo and umoci, with our whiteouts applied', { skip: peerSkip }, async () => {
    const archive = join(t.dir, 'hello.tar');
    await saveOciArchive(store, 'localhost/hello:1', archive);
    const layout = join(t.dir, 'layout');
    sh('skopeo', ['--insecure-policy', 'copy', '-q', `oci-archive:${archive}`, `oci:${layout}:v1`]);
    const inspect = JSON.parse(sh('skopeo', ['inspect', '--config', `oci:${layout}:v1`])) as { config: { Entrypoint: string[]; User: string } };
    assert.deepEqual(inspect.config.Entrypoint, ['/srv/app/bin/hello.sh']);
    const bundle = join(t.dir, 'bundle');
    sh('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    assert.equal(await readFile(join(rootfs, 'greeting'), 'utf8'), 'v2.0\n');
    assert.ok(!(await lstat(join(rootfs, 'bin/ping')).catch(() => undefined)), 'umoci applied the whiteout');
    assert.deepEqual(readdirSync(join(rootfs, 'home')), ['new'], 'and the opaque dir');
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; cwd: string; user: { uid: number }; env: string[] } };
    assert.deepEqual(spec.process.args, ['/srv/app/bin/hello.sh', '--verbose']);
    assert.equal(spec.process.cwd, '/srv/app');
    assert.equal(spec.process.user.uid, 65534);
    assert.ok(spec.process.env.includes('APP_NAME=hello'));
    // and our store imports the archive back to the same image
    const again = await ImageStore.open(join(t.dir, 'again'));
    const [imported] = await again.importPath(archive);
    assert.equal(imported?.reference, 'localhost/hello:1');
    assert.equal(imported?.id, (await store.resolve('localhost/hello:1')).id);
  });
});
