// Pulling from (and pushing to) a real distribution registry: Debian's docker-registry on
// 127.0.0.1, filled with skopeo from our store root (an OCI layout). A small in-test proxy in front
// of it adds the Bearer token flow, cross-origin blob redirects and corrupted blobs.
// Skipped, naming the package, when docker-registry / skopeo / busybox-static are missing (a failure under CI=true).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ImagePullError, ImagePushError, ImageStore, MediaType, buildBusyboxImage, parseChallenges, pullImage, pushImage, sha256, unpackLayers,
  type BusyboxImage, type PullProgress,
} from '../../../src/agent/images/index.js';
import { hasTool, tempDir } from './helpers.js';
import { freePort, htpasswdLine, registryBinary, startRegistry, type RunningRegistry } from './registry-helpers.js';

const missing = [
  !existsSync('/bin/busybox') && 'busybox-static (/bin/busybox)',
  !registryBinary() && 'docker-registry',
  !hasTool('skopeo') && 'skopeo',
].filter(Boolean) as string[];
const ci = process.env.CI === 'true';
const skip = missing.length > 0 && !ci ? `needs ${missing.join(', ')}: apt-get install -y ${missing.map((m) => m.split(' ')[0]).join(' ')}` : false;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

async function rejectsWith(p: Promise<unknown>, reason: string, message: RegExp): Promise<ImagePullError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ImagePullError, `expected an ImagePullError, got ${(e as Error).stack}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, message);
    return e;
  }
  assert.fail('the pull succeeded');
}

describe('the registry client', () => {
  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="nami-test"'), [{ scheme: 'basic', params: { realm: 'nami-test' } }]);
  });

  it('refuses plain http to a non-loopback registry without sending anything', async () => {
    const t = await tempDir();
    try {
      const store = await ImageStore.open(t.dir);
      await rejectsWith(pullImage(store, 'registry.example/busybox:1', { insecure: true }), 'Unsupported', /allowed only for loopback hosts/);
    } finally {
      await t.cleanup();
    }
  });
});

describe('pulling from a docker-registry', { skip }, () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let source: ImageStore;
  let built: BusyboxImage;
  let reg: RunningRegistry | undefined;
  let authReg: RunningRegistry | undefined;
  let proxy: Server | undefined;
  const stores: string[] = [];
  const fresh = async () => ImageStore.open(join(t.dir, `store-${stores.push('x')}`));

  before(async () => {
    if (missing.length > 0) assert.fail(`CI=true but the registry tests need: ${missing.join(', ')} (apt-get install -y docker-registry skopeo busybox-static)`);
    t = await tempDir('nami-registry-');
    source = await ImageStore.open(join(t.dir, 'source'));
    built = await buildBusyboxImage(source, { tags: ['docker.io/library/busybox:1.35'] });
    reg = await startRegistry(join(t.dir, 'registry'));
    sh('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', `oci:${source.root}:docker.io/library/busybox:1.35`, `docker://${reg.host}/busybox:1.35`]);
  });
  after(async () => {
    await reg?.stop();
    await authReg?.stop();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    await t?.cleanup();
  });

  it('pulls the image skopeo pushed, with the same digests, and unpacks it', async () => {
    const store = await fresh();
    const progress: PullProgress[] = [];
    const pulled = await pullImage(store, `${reg!.host}/busybox:1.35`, { insecure: true, onProgress: (p) => progress.push(p) });
    assert.equal(pulled.reference, `${reg!.host}/busybox:1.35`);
    assert.equal(pulled.digest, built.digest, 'skopeo kept our OCI manifest, so the digest is the same');
    assert.equal(pulled.id, built.id);
    assert.equal(pulled.repoDigest, built.digest);
    const img = await store.resolve(`${reg!.host}/busybox:1.35`);
    assert.equal(img.digest, built.digest);
    assert.equal(img.layers[0]!.diffId, built.layer.diffId);
    assert.deepEqual(img.config.Cmd, ['sh']);
    const last = progress.filter((p) => p.layer === built.layer.digest).at(-1);
    assert.deepEqual(last, { layer: built.layer.digest, downloaded: built.layer.size, total: built.layer.size });
    const [dir] = await unpackLayers(store, img, { whiteouts: 'oci' });
    assert.equal(await readlink(join(dir!, 'bin/sh')), 'busybox');

    // pulled again: every blob is already there
    const again = await pullImage(store, `${reg!.host}/busybox:1.35`, { insecure: true });
    assert.equal(again.downloaded, 0);
    assert.deepEqual(again.skipped.sort(), [built.id, built.layer.digest].sort());
    // by digest too
    const byDigest = await pullImage(await fresh(), `${reg!.host}/busybox@${built.digest}`, { insecure: true });
    assert.equal(byDigest.digest, built.digest);
  });

  it('reports a missing tag as not found, like containerd', async () => {
    const ref = `${reg!.host}/busybox:nope`;
    await rejectsWith(pullImage(await fresh(), ref, { insecure: true }), 'NotFound',
      new RegExp(`^failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found$`));
    await rejectsWith(pullImage(await fresh(), `${reg!.host}/nosuch/repo:1`, { insecure: true }), 'NotFound', /: not found$/);
  });

  it('reports an unreachable registry', async () => {
    const p = await freePort();
    await rejectsWith(pullImage(await fresh(), `127.0.0.1:${p}/busybox:1.35`, { insecure: true }), 'Unreachable',
      new RegExp(`failed to resolve reference .*failed to do request: GET http://127\\.0\\.0\\.1:${p}/v2/busybox/manifests/1\\.35: .*ECONNREFUSED.*unreachable`));
  });

  it('pushes an image, and picks the platform from an index', async () => {
    const pushed = await pushImage(source, `${reg!.host}/pushed/busybox:2`, { source: 'docker.io/library/busybox:1.35', insecure: true });
    assert.equal(pushed.digest, built.digest);
    assert.deepEqual(pushed.uploaded.sort(), [built.id, built.layer.digest].sort(), 'a new repository: both blobs uploaded');
    const again = await pushImage(source, `${reg!.host}/pushed/busybox:3`, { source: 'docker.io/library/busybox:1.35', insecure: true });
    assert.deepEqual(again.uploaded, []);
    const inspected = JSON.parse(sh('skopeo', ['inspect', '--tls-verify=false', `docker://${reg!.host}/pushed/busybox:2`])) as { Digest: string };
    assert.equal(inspected.Digest, built.digest);
    assert.equal((await pullImage(await fresh(), `${reg!.host}/pushed/busybox:2`, { insecure: true })).digest, built.digest);

    // an index with an s390x entry and ours
    const size = (await source.readBlob(built.digest)).length;
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        { mediaType: MediaType.ociManifest, digest: built.digest, size, platform: { os: 'linux', architecture: 's390x' } },
        { mediaType: MediaType.ociManifest, digest: built.digest, size, platform: { os: 'linux', architecture: process.arch === 'arm64' ? 'arm64' : 'amd64' } },
      ],
    }));
    const res = await fetch(`http://${reg!.host}/v2/pushed/busybox/manifests/multi`, { method: 'PUT', headers: { 'content-type': MediaType.ociIndex }, body: index });
    assert.equal(res.status, 201, await res.text());
    const pulled = await pullImage(await fresh(), `${reg!.host}/pushed/busybox:multi`, { insecure: true });
    assert.equal(pulled.digest, built.digest);
    assert.equal(pulled.repoDigest, sha256(index));
    await rejectsWith(pullImage(await fresh(), `${reg!.host}/pushed/busybox:multi`, { insecure: true, platform: { os: 'linux', architecture: 'riscv64' } }),
      'NoMatchingPlatform', /no match for platform .*linux\/riscv64.*it has linux\/s390x, linux\//);
  });

  const basicSkip = htpasswdLine('a', 'b') ? false : 'htpasswd (bcrypt) is not installed (apt-get install -y apache2-utils)';
  it('uses basic credentials when the registry asks for them (htpasswd auth)', { skip: basicSkip }, async () => {
    authReg = await startRegistry(join(t.dir, 'auth-registry'), { htpasswd: htpasswdLine('alice', 's3cret')! });
    sh('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret', `oci:${source.root}:docker.io/library/busybox:1.35`, `docker://${authReg.host}/private/busybox:1.35`]);
    const ref = `${authReg.host}/private/busybox:1.35`;
    const none = await rejectsWith(pullImage(await fresh(), ref, { insecure: true }), 'Unauthorized',
      new RegExp(`^failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": unauthorized: authentication required \\(no credentials were given`));
    assert.equal((none.cause as { status?: number }).status, 401);
    await rejectsWith(pullImage(await fresh(), ref, { insecure: true, auth: { username: 'alice', password: 'wrong' } }), 'Unauthorized',
      /unauthorized: authentication required \(the registry rejected the credentials given/);
    const ok = await pullImage(await fresh(), ref, { insecure: true, auth: { username: 'alice', password: 's3cret' } });
    assert.equal(ok.digest, built.digest);
    // push needs them too
    await assert.rejects(pushImage(source, `${authReg.host}/private/other:1`, { source: 'docker.io/library/busybox:1.35', insecure: true }),
      (e: unknown) => e instanceof ImagePushError && e.reason === 'Unauthorized' && /unauthorized: authentication required/.test(e.message));
    const pushed = await pushImage(source, `${authReg.host}/private/other:1`, { source: 'docker.io/library/busybox:1.35', insecure: true, auth: { username: 'alice', password: 's3cret' } });
    assert.equal(pushed.digest, built.digest);
  });

  it('gets a Bearer token from the realm, follows cross-origin blob redirects, and refuses corrupted blobs', async () => {
    // A token-auth front for the plain registry: /token (basic alice:pw) → a token; /v2/* needs it;
    // blob GETs are redirected to the registry itself (another origin), or served corrupted.
    const token = `tok-${Math.random().toString(36).slice(2)}`;
    const seen = { tokenRequests: [] as string[], redirected: 0 };
    let corrupt = false;
    proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/token') {
          seen.tokenRequests.push(url.search);
          if (req.headers.authorization !== `Basic ${Buffer.from('alice:pw').toString('base64')}`) {
            res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
          return;
        }
        if (req.headers.authorization !== `Bearer ${token}`) {
          const port = (proxy!.address() as { port: number }).port;
          res.writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="nami-test",scope="repository:busybox:pull"`,
          }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
          return;
        }
        const upstream = `http://${reg!.host}${url.pathname}`;
        if (url.pathname.includes('/blobs/') && !corrupt) {
          seen.redirected++;
          res.writeHead(307, { location: upstream }).end();
          return;
        }
        const r = await fetch(upstream, { headers: { accept: String(req.headers.accept ?? '*/*') } });
        const body = Buffer.from(await r.arrayBuffer());
        if (corrupt && url.pathname.includes('/blobs/')) body[body.length - 1] = body[body.length - 1]! ^ 0xff;
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'docker-content-digest']) if (r.headers.get(h)) headers[h] = r.headers.get(h)!;
        res.writeHead(r.status, headers).end(body);
      })().catch((e) => res.writeHead(500).end(String(e)));
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const ref = `${host}/busybox:1.35`;

    await rejectsWith(pullImage(await fresh(), ref, { insecure: true }), 'Unauthorized', /unauthorized: authentication required \(token request to http:\/\/127\.0\.0\.1:\d+\/token: no credentials were given\)/);
    await rejectsWith(pullImage(await fresh(), ref, { insecure: true, auth: { username: 'alice', password: 'nope' } }), 'Unauthorized', /rejected the credentials/);
    const ok = await pullImage(await fresh(), ref, { insecure: true, auth: { username: 'alice', password: 'pw' } });
    assert.equal(ok.digest, built.digest);
    assert.equal(seen.redirected, 2, 'config and layer came through the redirect');
    assert.match(seen.tokenRequests.at(-1)!, /service=nami-test/);
    assert.match(seen.tokenRequests.at(-1)!, /scope=repository%3Abusybox%3Apull/);
    // a given token is sent as it is
    assert.equal((await pullImage(await fresh(), ref, { insecure: true, auth: { token } })).digest, built.digest);

    corrupt = true;
    const store = await fresh();
    const err = await rejectsWith(pullImage(store, ref, { insecure: true, auth: { username: 'alice', password: 'pw' } }), 'DigestMismatch',
      new RegExp(`^failed to pull and unpack image "${ref}": digest mismatch for config ${built.id} of ${ref}: expected ${built.id}, got sha256:`));
    assert.ok(err.cause);
    assert.equal(await store.find(ref), undefined, 'nothing tagged');
    assert.equal(await store.hasBlob(built.id), false, 'the corrupted blob was not stored');
  });
});
