// The process runtime's pure parts: PATH and command lookup (image first, then the node) and
// the container features it refuses.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveExecutable, rootfsPath, unsupportedContainerFeatures, unsupportedVolumes, volumeEnvName, volumePathsAnnotation } from '../../../../src/agent/runtimes/process/index.js';

describe('process runtime command lookup', () => {
  const rootfs = mkdtempSync(join(tmpdir(), 'nami-rootfs-'));
  after(() => rmSync(rootfs, { recursive: true, force: true }));
  const exe = (rel: string) => {
    mkdirSync(join(rootfs, rel, '..'), { recursive: true });
    writeFileSync(join(rootfs, rel), '#!/bin/sh\n');
    chmodSync(join(rootfs, rel), 0o755);
  };

  it('PATH lists the image\'s directories first, then the node\'s', () => {
    assert.equal(rootfsPath('/usr/bin:/bin', '/r'), '/r/usr/bin:/r/bin:/usr/bin:/bin');
    assert.equal(rootfsPath('', '/r'), '');
  });

  it('an absolute command is the image\'s when it has it, else the node\'s; a bare name follows PATH; a missing one is undefined', () => {
    exe('bin/only-in-image');
    exe('usr/local/bin/sh');
    const path = rootfsPath('/usr/local/bin:/bin', rootfs);
    assert.equal(resolveExecutable('/bin/only-in-image', rootfs, path, rootfs), join(rootfs, 'bin/only-in-image'));
    assert.equal(resolveExecutable('/bin/sh', rootfs, path, rootfs), '/bin/sh');
    assert.equal(resolveExecutable('sh', rootfs, path, rootfs), join(rootfs, 'usr/local/bin/sh'));
    assert.equal(resolveExecutable('./bin/only-in-image', rootfs, path, rootfs), join(rootfs, 'bin/only-in-image'));
    assert.equal(resolveExecutable('no-such-command', rootfs, path, rootfs), undefined);
  });
});

describe('what the process runtime refuses', () => {
  const podSpec = { volumes: [{ name: 'my-data', emptyDir: {} }, { name: 'logs', hostPath: { path: '/var/log/app' } }, { name: 'mem', emptyDir: { medium: 'Memory' } }] };

  it('volume mounts, except a hostPath at its own path or with the env annotation', () => {
    const c = { volumeMounts: [{ name: 'my-data', mountPath: '/data' }, { name: 'logs', mountPath: '/var/log/app' }] };
    const why = unsupportedContainerFeatures(c, podSpec, {}, 1000, 1000);
    assert.equal(why.length, 1);
    assert.match(why[0]!, /volume "my-data" cannot be mounted at \/data.*\$NAMI_VOLUME_MY_DATA/);
    assert.deepEqual(unsupportedContainerFeatures(c, podSpec, { [volumePathsAnnotation]: 'env' }, 1000, 1000), []);
    assert.equal(volumeEnvName('my-data'), 'NAMI_VOLUME_MY_DATA');
  });

  it('other users and groups than the agent\'s; memory-backed emptyDirs', () => {
    assert.deepEqual(unsupportedContainerFeatures({ securityContext: { runAsUser: 1000 } }, { securityContext: { runAsGroup: 1000 } }, {}, 1000, 1000), []);
    const why = unsupportedContainerFeatures({}, { securityContext: { runAsUser: 0, runAsGroup: 5 } }, {}, 1000, 1000);
    assert.deepEqual(why.map((w) => w.split(':')[0]), ['runAsUser 0', 'runAsGroup 5']);
    assert.deepEqual(unsupportedVolumes(podSpec).length, 1);
    assert.match(unsupportedVolumes(podSpec)[0]!, /volume "mem": emptyDir with medium Memory/);
  });
});
