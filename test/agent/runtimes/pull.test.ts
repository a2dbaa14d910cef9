// Image pulls in the runc runtime: imagePullPolicy (Never / IfNotPresent / Always), loopback
// registries over plain http, imagePullSecrets (dockerconfigjson) and kubelet start-error reasons.
// The registry is Debian's docker-registry on 127.0.0.1, filled with skopeo from a store that
// built busybox. Needs root, runc, busybox-static, docker-registry, skopeo and htpasswd
// (apache2-utils); skips without them (fails under CI=true).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore, buildBusyboxImage } from '../../../src/agent/images/index.js';
import { RuncRuntime, mountsUnder, parseCriLog } from '../../../src/agent/runtimes/runc/index.js';
import { credentialsFor, ensureImage, pullPolicyOf } from '../../../src/agent/runtimes/image-pull.js';
import { ContainerStartError, type PodSandboxConfig, type RuntimeContainer } from '../../../src/agent/runtime.js';
import type { KubeObject } from '../../../src/api/object.js';
import { hasTool } from '../images/helpers.js';
import { htpasswdLine, registryBinary, startRegistry, type RunningRegistry } from '../images/registry-helpers.js';

const runcBin = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p)) ?? (spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim() || undefined);
const missing = [
  process.getuid?.() !== 0 && 'root',
  !runcBin && 'runc',
  !existsSync('/bin/busybox') && 'busybox-static',
  !registryBinary() && 'docker-registry',
  !hasTool('skopeo') && 'skopeo',
  !hasTool('htpasswd') && 'apache2-utils (htpasswd)',
].filter(Boolean) as string[];
if (missing.length > 0 && process.env.CI === 'true') throw new Error(`image pull tests cannot run under CI: missing ${missing.join(', ')}`);
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;

const b64 = (s: string) => Buffer.from(s).toString('base64');
function dockerConfigSecret(name: string, auths: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name, namespace: 'default' }, data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } };
}

describe('image pull policy and credentials', () => {
  it('defaults the policy as the API server does', () => {
    assert.equal(pullPolicyOf({}, 'busybox'), 'Always');
    assert.equal(pullPolicyOf({}, 'busybox:latest'), 'Always');
    assert.equal(pullPolicyOf({}, '127.0.0.1:5000/busybox:1.35'), 'IfNotPresent');
    assert.equal(pullPolicyOf({}, `busybox@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
    assert.equal(pullPolicyOf({ imagePullPolicy: 'Never' }, 'busybox'), 'Never');
  });

  it('finds credentials in dockerconfigjson (username/password or auth) and dockercfg secrets', () => {
    const secrets = [
      dockerConfigSecret('a', { 'https://index.docker.io/v1/': { auth: b64('hub:pw') }, 'other.example': { username: 'x', password: 'y' } }),
      dockerConfigSecret('b', { '127.0.0.1:5000': { username: 'alice', password: 's3cret' } }),
      { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'http://127.0.0.1:5000/': { auth: b64('bob:pw:with:colons') } })) } },
    ];
    assert.deepEqual(credentialsFor('docker.io', secrets), [{ username: 'hub', password: 'pw' }]);
    assert.deepEqual(credentialsFor('127.0.0.1:5000', secrets), [{ username: 'alice', password: 's3cret' }, { username: 'bob', password: 'pw:with:colons' }]);
    assert.deepEqual(credentialsFor('127.0.0.1:5001', secrets), []);
  });
});

describe('RuncRuntime pulls images (real runc, docker-registry)', { skip, concurrency: false }, () => {
  let root: string;
  let rt: RuncRuntime;
  let images: ImageStore;
  let reg: RunningRegistry | undefined;
  let authReg: RunningRegistry | undefined;
  const secretsAsked: string[][] = [];
  const secretStore = new Map<string, Record<string, unknown>>();
  const uids: string[] = [];
  let seq = 0;

  function sh(cmd: string, args: string[]): void {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }

  before(async () => {
    if (missing.length > 0) assert.fail(`missing ${missing.join(', ')}`);
    root = await mkdtemp(join(tmpdir(), 'nami-pull-'));
    const source = await ImageStore.open(join(root, 'source'));
    await buildBusyboxImage(source, { tags: ['docker.io/library/busybox:1.35'] });
    reg = await startRegistry(join(root, 'registry'));
    sh('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', `oci:${source.root}:docker.io/library/busybox:1.35`, `docker://${reg.host}/busybox:1.35`]);
    authReg = await startRegistry(join(root, 'auth-registry'), { htpasswd: htpasswdLine('alice', 's3cret')! });
    sh('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret', `oci:${source.root}:docker.io/library/busybox:1.35`, `docker://${authReg.host}/private/busybox:1.35`]);
    images = await ImageStore.open(join(root, 'images'));
    rt = await RuncRuntime.open({
      root: join(root, 'state'), images, runc: runcBin, pollMs: 100,
      pullSecrets: async (pod, names) => {
        secretsAsked.push(names);
        return names.map((n) => secretStore.get(`${pod.namespace}/${n}`)).filter((s): s is Record<string, unknown> => s !== undefined);
      },
    });
  });

  after(async () => {
    if (rt) {
      for (const uid of uids) await rt.removePod(uid).catch(() => undefined);
      await rt.close();
    }
    await reg?.stop();
    await authReg?.stop();
    if (root) {
      for (const m of mountsUnder(root)) spawnSync('umount', ['-l', m]);
      await rm(root, { recursive: true, force: true });
    }
  });

  async function newPod(name: string, podSpec: Record<string, unknown> = {}): Promise<string> {
    const uid = `p${process.pid}-${Date.now().toString(36)}-${seq++}`;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { containers: [], ...podSpec } } as unknown as KubeObject;
    const cfg: PodSandboxConfig = { uid, namespace: 'default', name, hostname: name, hostNetwork: false, labels: {}, annotations: {}, pod };
    uids.push(uid);
    assert.equal((await rt.runPodSandbox(cfg)).state, 'ready');
    return uid;
  }

  async function runsToCompletion(uid: string, c: RuntimeContainer): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const done = (await rt.podStatus(uid))?.containers.find((x) => x.id === c.id && x.state === 'exited');
      if (done) {
        assert.equal(done.exitCode, 0);
        break;
      }
      if (Date.now() > deadline) assert.fail('the container did not exit');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(parseCriLog(readFileSync(rt.containerLogPath(uid, 'c', 0), 'utf8')).map((l) => l.content), ['pulled']);
  }

  async function startFails(uid: string, image: string, extra: Record<string, unknown>, reason: string, message: RegExp): Promise<void> {
    await assert.rejects(rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: { name: 'c', image, command: ['true'], ...extra } }), (e: Error) => {
      assert.ok(e instanceof ContainerStartError, e.stack);
      assert.equal(e.reason, reason, e.message);
      assert.match(e.message, message);
      return true;
    });
  }

  it('pulls an image that is only in a loopback registry (IfNotPresent) and runs it', async () => {
    const image = `${reg!.host}/busybox:1.35`;
    await assert.rejects(images.resolve(image));
    const uid = await newPod('ifnotpresent');
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: { name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['echo', 'pulled'] } });
    assert.equal(c.image, image);
    assert.match(c.imageRef, new RegExp(`^${reg!.host.replace(/\./g, '\\.')}/busybox@sha256:[0-9a-f]{64}$`));
    await runsToCompletion(uid, c);
    assert.ok(await images.resolve(image));
  });

  it('Always pulls again, downloading nothing when the registry has the same digest', async () => {
    const image = `${reg!.host}/busybox:1.35`;
    const again = await ensureImage(images, image, { policy: 'Always' });
    assert.ok(again.pulled, 'Always pulls');
    assert.equal(again.pulled.downloaded, 0);
    const ifNotPresent = await ensureImage(images, image, { policy: 'IfNotPresent' });
    assert.equal(ifNotPresent.pulled, undefined);
  });

  it('Never with the image absent fails with ErrImageNeverPull', async () => {
    const uid = await newPod('never');
    const image = `${reg!.host}/busybox:absent`;
    await startFails(uid, image, { imagePullPolicy: 'Never' }, 'ErrImageNeverPull', new RegExp(`^Container image "${image.replace(/\./g, '\\.')}" is not present with pull policy of Never$`));
  });

  it('a missing tag fails with ErrImagePull and a not-found message', async () => {
    const uid = await newPod('notfound');
    const image = `${reg!.host}/busybox:nope`;
    await startFails(uid, image, { imagePullPolicy: 'IfNotPresent' }, 'ErrImagePull', new RegExp(`^failed to pull and unpack image "${image.replace(/\./g, '\\.')}": failed to resolve reference .*not found`));
  });

  it('a registry with basic auth pulls only with an imagePullSecret', async () => {
    const image = `${authReg!.host}/private/busybox:1.35`;
    const anon = await newPod('anon');
    await startFails(anon, image, { imagePullPolicy: 'IfNotPresent' }, 'ErrImagePull', /unauthorized/i);
    const wrong = await newPod('wrong', { imagePullSecrets: [{ name: 'wrong' }] });
    secretStore.set('default/wrong', dockerConfigSecret('wrong', { [authReg!.host]: { username: 'alice', password: 'nope' } }));
    await startFails(wrong, image, { imagePullPolicy: 'IfNotPresent' }, 'ErrImagePull', /unauthorized/i);
    secretStore.set('default/regcred', dockerConfigSecret('regcred', { [`http://${authReg!.host}/`]: { auth: b64('alice:s3cret') } }));
    const uid = await newPod('withsecret', { imagePullSecrets: [{ name: 'missing' }, { name: 'regcred' }] });
    const c = await rt.startContainer(uid, { name: 'c', image, kind: 'regular', attempt: 0, spec: { name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['echo', 'pulled'] } });
    await runsToCompletion(uid, c);
    assert.deepEqual(secretsAsked.at(-1), ['missing', 'regcred']);
  });
});
