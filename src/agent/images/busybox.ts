// A small busybox image built from the host's static busybox (Debian's busybox-static puts it at
// /bin/busybox), so examples and tests need no registry. One gzip'd layer:
//   /bin/busybox, a symlink per applet (bin/sh → busybox, usr/bin/wget → ../../bin/busybox, ...),
//   /etc/passwd and /etc/group (root, nobody), /tmp (1777), /root, /home, /var, /proc, /sys, /dev.
// The result is deterministic for a given binary (mtimes and "created" come from the binary).
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { writeTar, type TarWriteEntry } from './tar.js';
import { normalizeReference } from './reference.js';
import { hostPlatform, MediaType, type ImageConfigFile, type ImageManifest } from './oci.js';
import { sha256, type ImageStore } from './store.js';

const run = promisify(execFile);

export interface BusyboxImageOptions {
  /** Default /bin/busybox (Debian's busybox-static). */
  busybox?: string;
  /** Default: nami.dev/busybox:latest, nami.dev/busybox:<version>, docker.io/library/busybox:<version>. */
  tags?: string[];
  /** Also write the image as an OCI layout there (ref.name = tag only, as umoci/skopeo expect). */
  ociLayoutDir?: string;
  /** Applet paths relative to / (default: what `busybox --list-full` prints). */
  applets?: string[];
}

export interface BusyboxImage {
  references: string[];
  /** manifest digest */
  digest: string;
  /** config digest */
  id: string;
  layer: { digest: string; diffId: string; size: number };
  /** "1.35.0" */
  version: string;
}

/** Used when the binary cannot list its applets. */
const fallbackApplets = [
  'bin/sh', 'bin/ash', 'bin/ls', 'bin/cat', 'bin/echo', 'bin/sleep', 'bin/cp', 'bin/mv', 'bin/rm', 'bin/mkdir', 'bin/ln', 'bin/ps',
  'bin/hostname', 'bin/date', 'bin/grep', 'bin/sed', 'bin/touch', 'bin/true', 'bin/false', 'bin/pwd', 'bin/kill', 'bin/chmod', 'bin/uname',
  'bin/ping', 'bin/netstat', 'bin/ip', 'sbin/ifconfig', 'usr/bin/nc', 'usr/bin/wget', 'usr/bin/env', 'usr/bin/id', 'usr/bin/head', 'usr/bin/tail',
  'usr/bin/wc', 'usr/bin/awk', 'usr/bin/top', 'usr/bin/nslookup', 'usr/bin/test', 'usr/bin/[', 'usr/bin/whoami', 'usr/bin/seq', 'usr/bin/tee',
  'usr/sbin/httpd',
];

async function appletsOf(busybox: string): Promise<string[]> {
  try {
    const { stdout } = await run(busybox, ['--list-full'], { maxBuffer: 1 << 20 });
    const list = stdout.split('\n').map((s) => s.trim().replace(/^\/+/, '')).filter((s) => s && !s.includes('..'));
    if (list.length > 0) return list;
  } catch {
    /* fall back */
  }
  return fallbackApplets;
}

async function versionOf(busybox: string): Promise<string> {
  try {
    const { stdout } = await run(busybox, [], { maxBuffer: 1 << 20 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    return /BusyBox v(\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Builds the image into the store (and optionally an OCI layout dir). */
export async function buildBusyboxImage(store: ImageStore, opts: BusyboxImageOptions = {}): Promise<BusyboxImage> {
  const busybox = opts.busybox ?? '/bin/busybox';
  let binary: Buffer;
  let mtime: number;
  try {
    binary = await readFile(busybox);
    mtime = Math.floor((await stat(busybox)).mtimeMs / 1000);
  } catch (e) {
    throw new Error(`cannot read ${busybox} (${(e as Error).message}); install Debian's busybox-static package (apt-get install -y busybox-static)`);
  }
  const version = await versionOf(busybox);
  const minor = version.split('.').slice(0, 2).join('.');
  const tags = opts.tags ?? ['nami.dev/busybox:latest', ...(version !== 'unknown' ? [`nami.dev/busybox:${minor}`, `docker.io/library/busybox:${minor}`] : [])];
  const applets = opts.applets ?? (await appletsOf(busybox));

  const dirs = new Set(['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sbin', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'var', 'var/tmp']);
  const links = new Map<string, string>();
  for (const a of applets) {
    const p = posix.normalize(a);
    if (p === 'bin/busybox' || p.startsWith('/') || p.startsWith('..')) continue;
    for (let d = posix.dirname(p); d !== '.'; d = posix.dirname(d)) dirs.add(d);
    links.set(p, posix.relative(posix.dirname(p), 'bin/busybox'));
  }
  const entries: TarWriteEntry[] = [];
  const dirMode = (d: string) => (d === 'tmp' || d === 'var/tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755);
  for (const d of [...dirs].sort()) entries.push({ name: `${d}/`, type: 'dir', mode: dirMode(d), mtime });
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, mtime, data: binary });
  entries.push({ name: 'etc/passwd', type: 'file', mode: 0o644, mtime, data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' });
  entries.push({ name: 'etc/group', type: 'file', mode: 0o644, mtime, data: 'root:x:0:\nnobody:x:65534:\n' });
  for (const [p, target] of [...links].sort((a, b) => (a[0] < b[0] ? -1 : 1))) entries.push({ name: p, type: 'symlink', mode: 0o777, mtime, linkname: target });

  const tar = writeTar(entries);
  const gz = gzipSync(tar, { level: 9 });
  const diffId = sha256(tar);
  const layer = await store.writeBlob(gz, {}, 'busybox layer');
  const created = new Date(mtime * 1000).toISOString();
  const platform = hostPlatform();
  const config: ImageConfigFile = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      Labels: { 'org.opencontainers.image.title': 'busybox', 'org.opencontainers.image.version': version, 'dev.nami.source': busybox },
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: `nami: busybox ${version} from ${busybox}, ${links.size} applets`, comment: 'nami buildBusyboxImage' }],
  };
  const cfg = await store.writeBlob(Buffer.from(JSON.stringify(config)), {}, 'busybox config');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: layer.digest, size: layer.size }],
    annotations: { 'org.opencontainers.image.created': created },
  };
  const mb = await store.writeBlob(Buffer.from(JSON.stringify(manifest)), {}, 'busybox manifest');
  await store.addImage(tags, { mediaType: MediaType.ociManifest, digest: mb.digest, size: mb.size });
  if (opts.ociLayoutDir) await store.exportOciLayout(opts.ociLayoutDir, tags, { refName: 'tag' });
  return { references: tags.map(normalizeReference), digest: mb.digest, id: cfg.digest, layer: { digest: layer.digest, diffId, size: layer.size }, version };
}
