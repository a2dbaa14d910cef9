// Pod volumes and env valueFrom in the runc runtime. The first part is pure (env resolution, the
// atomic writer); the rest runs real runc with the busybox image: a shared emptyDir, hostPath
// binds (readOnly enforced), a configMap volume updated atomically, env from fieldRef / config
// maps / secrets. Needs root, runc and /bin/busybox; skips otherwise (fails under CI=true).
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, envReferences, fieldRefValue, mountsUnder, parseCriLog, resourceFieldValue, RuncRuntime, SpecError, writeAtomic, type EnvContext, type VolumeSource } from '../../../src/agent/runtimes/runc/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { dataVolumeFiles } from '../../../src/agent/runtimes/volumes.js';
import { tokenVolume } from '../../../src/api/service-account-token-volume.js';
import type { PodSandboxConfig, RuntimeContainer } from '../../../src/agent/runtime.js';
import { waitFor } from '../../apiserver/harness.js';
import { closeTestRuntime, openTestRuntime, runcSkip } from './runc-fixture.js';

const podObj = {
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { app: 'web', tier: 'fe' }, annotations: { note: 'a "q"' } },
  spec: { nodeName: 'node-1', serviceAccountName: 'sa', containers: [{ name: 'c', resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m' } } }] },
  status: { hostIP: '10.0.0.1' },
};

describe('runc env: valueFrom and envFrom', () => {
  const ctx: EnvContext = {
    pod: podObj,
    podIP: '10.244.0.5',
    configMaps: { cfg: { A: 'a', B: 'b', 'bad name': 'x' } },
    secrets: { sec: { PASS: 's3cret' } },
    nodeAllocatable: { cpu: 4000, memory: 8 * 1024 ** 3 },
  };
  const container = podObj.spec.containers[0]!;
  it('resolves fieldRef paths', () => {
    const v = (p: string) => fieldRefValue(p, ctx);
    assert.equal(v('metadata.name'), 'web');
    assert.equal(v('metadata.namespace'), 'prod');
    assert.equal(v('metadata.uid'), 'u-1');
    assert.equal(v('spec.nodeName'), 'node-1');
    assert.equal(v('spec.serviceAccountName'), 'sa');
    assert.equal(v('status.podIP'), '10.244.0.5');
    assert.equal(v('status.hostIP'), '10.0.0.1');
    assert.equal(v("metadata.labels['app']"), 'web');
    assert.equal(v("metadata.annotations['note']"), 'a "q"');
    assert.equal(v('metadata.labels'), 'app="web"\ntier="fe"');
    assert.throws(() => v('spec.bogus'), SpecError);
  });
  it('resolves resourceFieldRef with divisors; unset limits are the node allocatable', () => {
    assert.equal(resourceFieldValue({ resource: 'limits.cpu' }, container, ctx), '1');
    assert.equal(resourceFieldValue({ resource: 'limits.cpu', divisor: '1m' }, container, ctx), '500');
    assert.equal(resourceFieldValue({ resource: 'requests.cpu', divisor: '1m' }, container, ctx), '250');
    assert.equal(resourceFieldValue({ resource: 'limits.memory', divisor: '1Mi' }, container, ctx), '64');
    assert.equal(resourceFieldValue({ resource: 'limits.memory' }, {}, ctx), String(8 * 1024 ** 3));
    assert.equal(resourceFieldValue({ resource: 'limits.cpu' }, {}, ctx), '4');
  });
  it('builds env from envFrom (prefix, invalid names skipped), then env; missing required refs fail, optional ones are left out', () => {
    const spec = {
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CM_' }, { secretRef: { name: 'sec' } }, { configMapRef: { name: 'gone', optional: true } }],
      env: [
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'A' } } },
        { name: 'P', valueFrom: { secretKeyRef: { name: 'sec', key: 'PASS' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'E', value: '$(POD)-$(CM_A)' },
        { name: 'CM_B', value: 'over' },
      ],
    };
    const { env } = containerEnv(spec, {}, 'h', ctx);
    assert.deepEqual(env.slice(2), ['CM_A=a', 'CM_B=over', 'PASS=s3cret', 'POD=web', 'X=a', 'P=s3cret', 'MEM=64', 'E=web-a']);
    assert.deepEqual(envReferences(spec), { configMaps: ['cfg', 'gone'], secrets: ['sec'] });
    assert.throws(() => containerEnv({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }] }, {}, 'h', ctx), /couldn't find key nope/);
    assert.throws(() => containerEnv({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'none', key: 'k' } } }] }, {}, 'h', ctx), /secret "none" not found/);
    assert.throws(() => containerEnv({ envFrom: [{ configMapRef: { name: 'none' } }] }, {}, 'h', ctx), /configmap "none" not found/);
  });
});

describe('projected volumes with a service account token', () => {
  // The volume the ServiceAccount admission plugin adds to every pod.
  const volume = tokenVolume('kube-api-access-abcde');
  const ctx: EnvContext = { pod: podObj, podIP: '10.244.0.5', nodeAllocatable: { cpu: 4000, memory: 8 * 1024 ** 3 } };
  const asked: unknown[] = [];
  const source: VolumeSource = {
    configMap: async (ns, name) => (ns === 'prod' && name === 'kube-root-ca.crt' ? { 'ca.crt': 'CA PEM' } : undefined),
    secret: async () => undefined,
    serviceAccountToken: async (ns, account, spec) => {
      asked.push({ ns, account, spec });
      if (account === 'gone') throw new Error('serviceaccounts "gone" not found');
      return 'the.jwt.token';
    },
  };

  it('holds the token of the pod\'s account, bound to the pod, beside the CA and the namespace', async () => {
    const files = await dataVolumeFiles(volume, ctx, source);
    assert.deepEqual(files, [
      { path: 'token', content: 'the.jwt.token', mode: 0o644 },
      { path: 'ca.crt', content: 'CA PEM', mode: 0o644 },
      { path: 'namespace', content: 'prod', mode: 0o644 },
    ]);
    assert.deepEqual(asked, [{ ns: 'prod', account: 'sa', spec: { expirationSeconds: 3607, pod: { name: 'web', uid: 'u-1' } } }]);
  });

  it('fails the mount with the API server\'s reason when no token can be had', async () => {
    const gone = { ...ctx, pod: { ...podObj, spec: { ...podObj.spec, serviceAccountName: 'gone' } } };
    await assert.rejects(dataVolumeFiles(volume, gone, source), (err: Error) => err instanceof SpecError && err.message === 'failed to fetch token: serviceaccounts "gone" not found');
    await assert.rejects(dataVolumeFiles(volume, ctx, { configMap: source.configMap, secret: source.secret }), /this node has no token source/);
  });
});

describe('atomic writer', () => {
  it('lays out ..data and key symlinks and swaps them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nami-aw-'));
    try {
      await writeAtomic(dir, [{ path: 'a', content: '1', mode: 0o644 }, { path: 'sub/b', content: '2', mode: 0o600 }]);
      assert.ok(lstatSync(join(dir, '..data')).isSymbolicLink());
      assert.equal(readlinkSync(join(dir, 'a')), '..data/a');
      assert.equal(readFileSync(join(dir, 'sub/b'), 'utf8'), '2');
      assert.equal(lstatSync(join(dir, '..data/sub/b')).mode & 0o777, 0o600);
      const first = readlinkSync(join(dir, '..data'));
      await writeAtomic(dir, [{ path: 'a', content: 'new', mode: 0o644 }]);
      assert.notEqual(readlinkSync(join(dir, '..data')), first);
      assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'new');
      assert.ok(!existsSync(join(dir, 'sub')));
      assert.deepEqual((await readdir(dir)).sort(), ['..data', readlinkSync(join(dir, '..data')), 'a'].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const skip = runcSkip('runc volume tests');
const image = 'nami.dev/busybox:latest';
let seq = 0;


describe('RuncRuntime volumes and env (real runc)', { skip, concurrency: false }, () => {
  let root: string;
  let rt: RuncRuntime;
  const uids: string[] = [];
  const configMaps: Record<string, Record<string, string>> = { app: { 'greeting.txt': 'hello', mode: 'blue' } };
  const secrets: Record<string, Record<string, string>> = { creds: { password: Buffer.from('hunter2').toString('base64') } };
  const claims: Record<string, Record<string, unknown>> = {};
  const pvs: Record<string, Record<string, unknown>> = {};
  const source: VolumeSource = {
    configMap: async (ns, n) => (ns === 'default' ? configMaps[n] : undefined),
    secret: async (ns, n) => (ns === 'default' ? secrets[n] : undefined),
    persistentVolumeClaim: async (ns, n) => (ns === 'default' ? claims[n] : undefined),
    persistentVolume: async (n) => pvs[n],
  };

  before(async () => {
    ({ root, rt } = await openTestRuntime('nami-vol-', image, { volumeSource: source }));
  });

  after(() => closeTestRuntime(root, rt, uids));

  async function newPod(name: string, spec: Record<string, unknown>): Promise<string> {
    const uid = `v${process.pid}-${Date.now().toString(36)}-${seq++}`;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid, labels: { app: name } }, spec: { nodeName: 'n1', containers: [], ...spec } } as unknown as KubeObject;
    const cfg: PodSandboxConfig = { uid, namespace: 'default', name, hostname: name, hostNetwork: false, labels: {}, annotations: {}, pod };
    uids.push(uid);
    assert.equal((await rt.runPodSandbox(cfg)).state, 'ready');
    return uid;
  }
  const sh = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image, kind: 'regular' as const, attempt: 0, spec: { name, image, command: ['sh', '-c', script], ...extra } });
  const exited = (uid: string, id: string) => waitFor<RuntimeContainer>(`container ${id} to exit`, async () => (await rt.podStatus(uid))?.containers.find((c) => c.id === id && c.state === 'exited'));
  const lines = (uid: string, name: string, attempt = 0) => parseCriLog(readFileSync(rt.containerLogPath(uid, name, attempt), 'utf8')).map((l) => l.content);

  it('two containers share an emptyDir; its data survives a restart and goes with the pod', async () => {
    const uid = await newPod('shared', { volumes: [{ name: 'data', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }] });
    const mounts = [{ name: 'data', mountPath: '/data' }, { name: 'mem', mountPath: '/mem' }];
    const w = await rt.startContainer(uid, sh('writer', 'echo shared-data > /data/f; echo m > /mem/f; mkdir -p /data/sub; echo s > /data/sub/x', { volumeMounts: mounts }));
    assert.equal((await exited(uid, w.id)).exitCode, 0, lines(uid, 'writer').join('\n'));
    const r = await rt.startContainer(uid, sh('reader', 'cat /data/f /mem/f /s/x; df -k /mem | tail -1 | awk \'{print $2}\'', { volumeMounts: [...mounts, { name: 'data', mountPath: '/s', subPath: 'sub' }] }));
    assert.equal((await exited(uid, r.id)).exitCode, 0, lines(uid, 'reader').join('\n'));
    assert.deepEqual(lines(uid, 'reader'), ['shared-data', 'm', 's', '8192']);
    const r2 = await rt.startContainer(uid, { ...sh('reader', 'cat /data/f', { volumeMounts: mounts }), attempt: 1 });
    assert.equal((await exited(uid, r2.id)).exitCode, 0);
    assert.deepEqual(lines(uid, 'reader', 1), ['shared-data']);
    const podDir = rt.podDir(uid);
    assert.ok(mountsUnder(podDir).length > 0, 'the tmpfs is mounted');
    await rt.stopPodSandbox(uid, 0);
    await rt.removePod(uid);
    assert.deepEqual(mountsUnder(podDir), []);
    assert.ok(!existsSync(podDir));
  });

  it('hostPath: bind read-write and readOnly enforced; type checks', async () => {
    const host = join(root, 'host');
    await mkdir(host, { recursive: true });
    writeFileSync(join(host, 'in.txt'), 'from-host\n');
    const uid = await newPod('hostpath', {
      volumes: [
        { name: 'rw', hostPath: { path: host, type: 'Directory' } },
        { name: 'ro', hostPath: { path: host } },
        { name: 'made', hostPath: { path: join(root, 'made/dir'), type: 'DirectoryOrCreate' } },
        { name: 'file', hostPath: { path: join(root, 'made/file'), type: 'FileOrCreate' } },
      ],
    });
    const c = await rt.startContainer(uid, sh('c', 'cat /rw/in.txt; echo out > /rw/out.txt; (echo x > /ro/y) 2>/dev/null && echo writable || echo read-only; cat /ro/out.txt; test -f /file && echo file', {
      volumeMounts: [{ name: 'rw', mountPath: '/rw' }, { name: 'ro', mountPath: '/ro', readOnly: true }, { name: 'made', mountPath: '/made' }, { name: 'file', mountPath: '/file' }],
    }));
    assert.equal((await exited(uid, c.id)).exitCode, 0, lines(uid, 'c').join('\n'));
    assert.deepEqual(lines(uid, 'c'), ['from-host', 'read-only', 'out', 'file']);
    assert.equal(readFileSync(join(host, 'out.txt'), 'utf8'), 'out\n');
    assert.ok(existsSync(join(root, 'made/dir')));
    const bad = await newPod('badhost', { volumes: [{ name: 'v', hostPath: { path: join(root, 'nope'), type: 'Directory' } }] });
    await assert.rejects(rt.startContainer(bad, sh('c', 'true', { volumeMounts: [{ name: 'v', mountPath: '/v' }] })), (e: Error & { reason?: string }) => {
      assert.equal(e.reason, 'CreateContainerConfigError');
      assert.match(e.message, /not a directory/);
      return true;
    });
  });

  it('a configMap volume shows keys as files; an update swaps the content atomically; secrets decoded', async () => {
    const uid = await newPod('cm', {
      volumes: [
        { name: 'cfg', configMap: { name: 'app' } },
        { name: 'one', configMap: { name: 'app', items: [{ key: 'mode', path: 'sub/m', mode: 0o600 }] } },
        { name: 'sec', secret: { secretName: 'creds' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      ],
    });
    const c = await rt.startContainer(uid, sh('c', 'cat /cfg/greeting.txt; echo; cat /one/sub/m; echo; cat /sec/password; echo; cat /info/labels; echo; cat /info/name; echo; (echo x > /cfg/new) 2>/dev/null || echo ro; echo ready; while :; do if [ "$(cat /cfg/greeting.txt)" = bonjour ]; then echo updated; exit 0; fi; sleep 0.1; done', {
      volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }, { name: 'one', mountPath: '/one' }, { name: 'sec', mountPath: '/sec' }, { name: 'info', mountPath: '/info' }],
    }));
    await waitFor('ready', async () => (lines(uid, 'c').includes('ready') ? true : undefined));
    assert.deepEqual(lines(uid, 'c'), ['hello', 'blue', 'hunter2', 'app="cm"', 'cm', 'ro', 'ready']);
    const dir = join(rt.podDir(uid), 'volumes', 'configmap', 'cfg');
    const before = readlinkSync(join(dir, '..data'));
    assert.equal(readlinkSync(join(dir, 'greeting.txt')), '..data/greeting.txt');
    const original = configMaps.app!;
    try {
      configMaps.app = { 'greeting.txt': 'bonjour', mode: 'red' };
      await rt.updatePodVolumes(uid);
      assert.notEqual(readlinkSync(join(dir, '..data')), before);
      assert.equal(readFileSync(join(dir, 'mode'), 'utf8'), 'red');
      assert.equal((await exited(uid, c.id)).exitCode, 0);
      assert.equal(lines(uid, 'c').at(-1), 'updated');
      // A key that goes disappears from the volume (the items volume that needs it keeps its old files and the update reports it).
      configMaps.app = { 'greeting.txt': 'x' };
      await assert.rejects(rt.updatePodVolumes(uid), /no key "mode"/);
      assert.ok(!existsSync(join(dir, 'mode')), 'a removed key goes');
      assert.equal(readFileSync(join(rt.podDir(uid), 'volumes', 'configmap', 'one', 'sub/m'), 'utf8'), 'red');
    } finally {
      configMaps.app = original;
    }
  });

  it('persistentVolumeClaim: waits while the claim is missing or pending, then mounts the bound hostPath or local volume (readOnly honoured)', async () => {
    const hostDir = join(root, 'pv-host');
    const localDir = join(root, 'local-path', 'default_data_pvc-2');
    const uid = await newPod('claims', {
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
        { name: 'ro', persistentVolumeClaim: { claimName: 'shared', readOnly: true } },
      ],
    });
    const c = () => sh('c', 'cat /ro/in.txt; echo written > /data/out.txt; (echo x > /ro/y) 2>/dev/null && echo writable || echo read-only', {
      volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'ro', mountPath: '/ro' }],
    });
    const waits = async (pattern: RegExp) =>
      assert.rejects(rt.startContainer(uid, c()), (e: Error & { reason?: string; retryAfterMs?: number; event?: { reason: string } }) => {
        assert.equal(e.reason, 'ContainerCreating');
        assert.equal(e.event?.reason, 'FailedMount');
        assert.ok(e.retryAfterMs !== undefined, 'retried soon, not after a crash-loop back-off');
        assert.match(e.message, pattern);
        return true;
      });
    await waits(/^Unable to attach or mount volumes: unmounted volumes=\[data\], failed to process volumes=\[data\]: error processing PVC default\/data: failed to fetch PVC from API server: persistentvolumeclaims "data" not found$/);
    claims.data = { metadata: { name: 'data', namespace: 'default', uid: 'c-data' }, spec: {}, status: { phase: 'Pending' } };
    await waits(/error processing PVC default\/data: PVC is not bound$/);
    // Bound by the volume controller to a volume the local-path provisioner made: the node makes its directory.
    claims.data = { ...claims.data, spec: { volumeName: 'pvc-2' }, status: { phase: 'Bound' } };
    pvs['pvc-2'] = { metadata: { name: 'pvc-2', annotations: { 'pv.kubernetes.io/provisioned-by': 'nami.dev/local-path' } }, spec: { local: { path: localDir }, claimRef: { name: 'data', namespace: 'default', uid: 'c-data' } } };
    claims.shared = { metadata: { name: 'shared', namespace: 'default', uid: 'c-shared' }, spec: { volumeName: 'host-pv' }, status: { phase: 'Bound' } };
    pvs['host-pv'] = { metadata: { name: 'host-pv' }, spec: { hostPath: { path: hostDir, type: 'DirectoryOrCreate' }, claimRef: { name: 'shared', namespace: 'default', uid: 'someone-else' } } };
    await waits(/error processing PVC default\/shared: found PV object "host-pv" but its pv.Spec.ClaimRef.UID \("someone-else"\) does not point to claim.UID \("c-shared"\)$/);
    (pvs['host-pv']!.spec as { claimRef: { uid: string } }).claimRef.uid = 'c-shared';
    await mkdir(hostDir, { recursive: true });
    writeFileSync(join(hostDir, 'in.txt'), 'from-pv\n');
    const run = await rt.startContainer(uid, c());
    assert.equal((await exited(uid, run.id)).exitCode, 0, lines(uid, 'c').join('\n'));
    assert.deepEqual(lines(uid, 'c'), ['from-pv', 'read-only']);
    assert.equal(readFileSync(join(localDir, 'out.txt'), 'utf8'), 'written\n', 'the claim\'s data is in the volume\'s directory');
  });

  it('env valueFrom: fieldRef, configMapKeyRef, secretKeyRef, envFrom; a missing key is CreateContainerConfigError', async () => {
    const uid = await newPod('envpod', {});
    const c = await rt.startContainer(uid, sh('c', 'env | sort', {
      env: [
        { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'mode' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      ],
      envFrom: [{ configMapRef: { name: 'app' }, prefix: 'CM_' }],
    }));
    assert.equal((await exited(uid, c.id)).exitCode, 0);
    const env = lines(uid, 'c');
    for (const want of ['MY_NAME=envpod', 'MY_NS=default', 'MY_NODE=n1', 'MODE=blue', 'PASSWORD=hunter2', 'CM_mode=blue']) assert.ok(env.includes(want), `${want} in ${env.join(' ')}`);
    await assert.rejects(rt.startContainer(uid, sh('bad', 'true', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }] })), (e: Error & { reason?: string }) => e.reason === 'CreateContainerConfigError');
  });
});
