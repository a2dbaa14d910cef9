// The runc runtime's pure parts: config.json generation from image + pod container spec, and CRI log lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildSpec, containerArgs, containerCapabilities, containerEnv, containerResources, containerUser, CriLineSplitter, criTimestamp,
  defaultCapabilities, expandVars, parseCriLog, resolveImageUser, SpecError,
} from '../../../src/agent/runtimes/runc/index.js';

describe('runc spec: command and args', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['cmd1', 'cmd2'] };
  it('follows Kubernetes rules for command/args over Entrypoint/Cmd', () => {
    assert.deepEqual(containerArgs({}, image), ['/entry', 'cmd1', 'cmd2']);
    assert.deepEqual(containerArgs({ args: ['a'] }, image), ['/entry', 'a']);
    assert.deepEqual(containerArgs({ command: ['/c'] }, image), ['/c']);
    assert.deepEqual(containerArgs({ command: ['/c'], args: ['a'] }, image), ['/c', 'a']);
    assert.deepEqual(containerArgs({}, {}), []);
  });
  it('expands $(VAR) with $$ escapes, leaving unknown names', () => {
    const vars = new Map([['A', 'x']]);
    assert.equal(expandVars('$(A)-$(B)-$$(A)-$', vars), 'x-$(B)-$(A)-$');
  });
});

describe('runc spec: env and user', () => {
  it('merges image env, PATH, HOSTNAME and plain values; skips valueFrom', () => {
    const { env } = containerEnv({ env: [{ name: 'A', value: '1' }, { name: 'B', value: '$(A)2' }, { name: 'C', valueFrom: { fieldRef: {} } }, { name: 'X', value: 'over' }] }, { Env: ['X=img', 'Y=y'] }, 'h');
    assert.deepEqual(env, ['X=over', 'Y=y', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h', 'A=1', 'B=12']);
  });
  const files = { passwd: 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n', group: 'root:x:0:\nstaff:x:50:\n' };
  it('resolves image users by name and number', () => {
    assert.deepEqual(resolveImageUser(undefined, files), { uid: 0, gid: 0 });
    assert.deepEqual(resolveImageUser('app', files), { uid: 1000, gid: 1001 });
    assert.deepEqual(resolveImageUser('app:staff', files), { uid: 1000, gid: 50 });
    assert.deepEqual(resolveImageUser('1000', files), { uid: 1000, gid: 1001 });
    assert.deepEqual(resolveImageUser('42:7', files), { uid: 42, gid: 7 });
    assert.throws(() => resolveImageUser('nobody-here', files), SpecError);
  });
  it('securityContext runAsUser/runAsGroup override the image, container over pod', () => {
    assert.deepEqual(containerUser({ securityContext: { runAsUser: 5 } }, { securityContext: { runAsUser: 6, runAsGroup: 9, supplementalGroups: [100] } }, { User: 'app' }, files), { uid: 5, gid: 9, additionalGids: [100] });
    assert.deepEqual(containerUser({}, {}, { User: 'app' }, files), { uid: 1000, gid: 1001 });
  });
});

describe('runc spec: capabilities and resources', () => {
  it('defaults to the Docker set; add/drop/ALL; privileged gets all', () => {
    assert.deepEqual(new Set(containerCapabilities({})), new Set(defaultCapabilities));
    const c = containerCapabilities({ securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN', 'CAP_KILL'] } } });
    assert.ok(c.includes('CAP_NET_ADMIN') && !c.includes('CAP_CHOWN') && !c.includes('CAP_KILL'));
    assert.deepEqual(containerCapabilities({ securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }), ['CAP_NET_BIND_SERVICE']);
    assert.equal(containerCapabilities({ securityContext: { privileged: true } }, 40).length, 41);
    assert.equal(containerCapabilities({ securityContext: { privileged: true } }, 37).length, 38);
  });
  it('maps limits to memory, cpu quota/period, shares and pids', () => {
    const r = containerResources({ resources: { limits: { memory: '16Mi', cpu: '500m' }, requests: { cpu: '250m' } } }, { limitSwap: true, pidsLimit: 100 });
    assert.deepEqual(r.memory, { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 });
    assert.deepEqual(r.cpu, { period: 100000, quota: 50000, shares: 256 });
    assert.deepEqual(r.pids, { limit: 100 });
    assert.deepEqual(containerResources({}), { devices: [{ allow: false, access: 'rwm' }], cpu: { shares: 2 } }, 'no cpu request: the minimum shares');
  });
});

describe('runc spec: config.json', () => {
  const base = {
    args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0 }, capabilities: defaultCapabilities, privileged: false, noNewPrivileges: false,
    readonlyRootfs: true, hostNetwork: false, resources: {}, cgroupsPath: 'nami/x', binds: [{ source: '/s/hosts', destination: '/etc/hosts' }],
  };
  type Ns = { type: string; path?: string };
  it('joins the sandbox namespaces by path', () => {
    const s = buildSpec({ ...base, sandboxPid: 42 }) as { linux: { namespaces: Ns[] }; root: { readonly: boolean }; hostname?: string; mounts: { destination: string }[] };
    assert.deepEqual(s.linux.namespaces, [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc', path: '/proc/42/ns/ipc' }, { type: 'network', path: '/proc/42/ns/net' }, { type: 'uts', path: '/proc/42/ns/uts' }]);
    assert.equal(s.root.readonly, true);
    assert.equal(s.hostname, undefined);
    assert.ok(s.mounts.some((m) => m.destination === '/etc/hosts'));
    assert.ok(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'].every((d) => s.mounts.some((m) => m.destination === d)));
  });
  it('an ephemeral container with a target joins the target\'s process namespace', () => {
    const s = buildSpec({ ...base, sandboxPid: 42, targetPid: 77 }) as { linux: { namespaces: Ns[] } };
    assert.deepEqual(s.linux.namespaces.slice(0, 2), [{ type: 'pid', path: '/proc/77/ns/pid' }, { type: 'mount' }]);
  });
  it('sandbox: new namespaces and hostname; host network: no net/uts namespace', () => {
    const sb = buildSpec({ ...base, hostname: 'h' }) as { linux: { namespaces: Ns[] }; hostname?: string };
    assert.equal(sb.hostname, 'h');
    assert.deepEqual(sb.linux.namespaces.map((n) => n.type), ['pid', 'mount', 'ipc', 'network', 'uts']);
    const hn = buildSpec({ ...base, hostNetwork: true }) as { linux: { namespaces: Ns[] } };
    assert.deepEqual(hn.linux.namespaces.map((n) => n.type), ['pid', 'mount', 'ipc']);
  });
});

describe('CRI log lines', () => {
  it('formats timestamps with 9 fraction digits', () => {
    assert.equal(criTimestamp(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  });
  it('splits full and partial lines', () => {
    const out: string[] = [];
    const s = new CriLineSplitter('stdout', (l) => out.push(l), 4, () => 'T');
    s.push(Buffer.from('ab\ncdefgh'));
    s.push(Buffer.from('i\nj'));
    s.end();
    assert.deepEqual(out, ['T stdout F ab\n', 'T stdout P cdef\n', 'T stdout F ghi\n', 'T stdout F j\n']);
    const exact: string[] = [];
    const e = new CriLineSplitter('stderr', (l) => exact.push(l), 4, () => 'T');
    e.push(Buffer.from('wxyz\n'));
    e.end();
    assert.deepEqual(exact, ['T stderr F wxyz\n']);
    assert.deepEqual(parseCriLog('2024-01-01T00:00:00.000000000Z stdout P a b\n2024-01-01T00:00:00.1Z stderr F \n').map((l) => `${l.stream}${l.tag}${l.content}`), ['stdoutPa b', 'stderrF']);
  });
});
