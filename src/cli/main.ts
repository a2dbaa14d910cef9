// The `nami` command.
import { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ServerCommandOptions } from './server-command.js';
import { positiveInt } from './flags.js';

const program = new Command();
program.name('nami').description('Nami: a Kubernetes-compatible container platform with a small footprint').version('0.1.0');

const defaultDataDir = process.env.NAMI_DATA_DIR ?? join(homedir(), '.nami');

/** `server` and `up` run the same control plane today; `up` adds a node agent once there is one. */
function serverCommand(name: 'server' | 'up', description: string): void {
  const cmd = program
    .command(name)
    .description(description)
    .option('--data-dir <dir>', 'where state, certificates and the admin kubeconfig live', defaultDataDir)
    .option('--listen <host:port>', 'address the API server listens on', '127.0.0.1:6443')
    .option('--storage <spec>', 'sqlite (default), memory, or etcd://host:2379[,host:2379...]', 'sqlite')
    .option('--no-scheduler', 'do not run the scheduler here (run `nami scheduler` elsewhere)')
    .option('--no-controllers', 'do not run the controllers here (run `nami controllers` elsewhere)')
    .option('--token-auth-file <file>', 'accept the bearer tokens of this CSV file (token,user,uid[,"group1,group2"] per line), as kube-apiserver does')
    .option('--disable-admission-plugins <names>', 'admission plugins to switch off, comma-separated (ServiceAccount)')
    .option('--node-monitor-grace-period <seconds>', 'how long a node may go unheard before it is marked NotReady/Unknown', '40')
    .option('--shutdown-delay-duration <seconds>', 'on SIGTERM, go on serving this long with /readyz failing (for load balancers to stop sending) before shutting down', '0');
  if (name === 'up')
    cmd
      .option('--runtime <runc|process|fake>', 'how this node runs pods (default: runc when root and runc are there, else process)')
      .option('--pod-cidr <cidr>', 'this node\'s pod range', '10.244.0.0/24')
      .option('--bridge <name>', 'this node\'s pod bridge', 'nami0');
  cmd.action(async (opts: ServerCommandOptions) => {
    // The API server's TLS thread boots while this thread loads the rest; Node's and V8's helper
    // threads are lowered before, so that it is not taken for one of them.
    (await import('./helper-threads.js')).lowerHelperThreads();
    (await import('../apiserver/tls-front-thread.js')).prestartTlsFrontThread();
    const { runServer } = await import('./server-command.js');
    await runServer({ ...opts, agent: name === 'up' });
  });
}

const defaultKubeconfig = join(defaultDataDir, 'admin.kubeconfig');

program
  .command('hollow')
  .description('register simulated nodes that run pods without running anything (for scale tests, like kwok)')
  .option('--kubeconfig <file>', 'credentials of the cluster to join', defaultKubeconfig)
  .option('--nodes <n>', 'how many nodes', '10')
  .option('--pods-per-node <n>', 'pod capacity of each node', '110')
  .option('--cpu <quantity>', 'cpu capacity of each node', '4')
  .option('--memory <quantity>', 'memory capacity of each node', '16Gi')
  .option('--name-prefix <prefix>', 'node names are this prefix and a number', 'hollow-node-')
  .action(async (opts: { kubeconfig: string; nodes: string; podsPerNode: string; cpu: string; memory: string; namePrefix: string }) => {
    const { runHollowCommand } = await import('../agent/index.js');
    await runHollowCommand({
      kubeconfig: opts.kubeconfig,
      nodes: positiveInt('--nodes', opts.nodes),
      podsPerNode: positiveInt('--pods-per-node', opts.podsPerNode),
      cpu: opts.cpu,
      memory: opts.memory,
      namePrefix: opts.namePrefix,
    });
  });

program
  .command('agent')
  .description('run this machine as a node: pods as runc containers (root), as plain processes (--runtime process: no isolation, no root needed), or with --runtime fake')
  .option('--kubeconfig <file>', 'credentials of the cluster to join', defaultKubeconfig)
  .option('--name <node>', 'the node name (default: the host name)')
  .option('--data-dir <dir>', 'images (DATA-DIR/images) and container state (DATA-DIR/runtime)', defaultDataDir)
  .option('--runtime <runc|process|fake>', 'how pods run: runc containers (root), plain host processes (no isolation), or nothing (fake)', 'runc')
  .option('--address <ip>', 'the node\'s InternalIP, where the API server reaches it for logs', '127.0.0.1')
  .option('--port <n>', 'the agent\'s HTTPS port (default 10250, or any free one when that is taken; 0: any free one)')
  .option('--pod-cidr <cidr>', 'the node\'s pod range', '10.244.0.0/24')
  .option('--bridge <name>', 'the node\'s pod bridge', 'nami0')
  .option('--container-log-max-size <quantity>', 'rotate a container\'s log file before it exceeds this size', '10Mi')
  .option('--container-log-max-files <n>', 'log files kept per container, the current one included (at least 2)', '5')
  .action(async (opts: { kubeconfig: string; name?: string; dataDir: string; runtime: string; address: string; port?: string; podCidr: string; bridge: string; containerLogMaxSize: string; containerLogMaxFiles: string }) => {
    const { runAgentCommand } = await import('./agent-command.js');
    const port = opts.port === undefined ? undefined : Number(opts.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new Error(`--port must be 0..65535, got "${opts.port}"`);
    if (!/^\d+$/.test(opts.containerLogMaxFiles)) throw new Error(`--container-log-max-files must be an integer of at least 2, got "${opts.containerLogMaxFiles}"`);
    const containerLogMaxFiles = Number(opts.containerLogMaxFiles);
    await runAgentCommand({ ...opts, port, containerLogMaxFiles });
  });

const image = program.command('image').description('the node\'s image store (DATA-DIR/images, an OCI layout)');
const imageStore = async (dataDir: string) => {
  const { ImageStore } = await import('../agent/images/index.js');
  return ImageStore.open(join(dataDir, 'images'));
};
image
  .command('import <file>')
  .description('import an OCI layout (directory or tar) or a docker-archive tar (docker save)')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .option('--name <reference>', 'name the image (for archives that carry no name)')
  .action(async (file: string, opts: { dataDir: string; name?: string }) => {
    const store = await imageStore(opts.dataDir);
    for (const img of await store.importPath(file, opts.name ? { reference: opts.name } : {})) console.log(`imported ${img.reference} ${img.digest}`);
  });
image
  .command('ls')
  .description('list the images in the store')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .action(async (opts: { dataDir: string }) => {
    const store = await imageStore(opts.dataDir);
    const rows = (await store.list()).map((i) => [i.reference, i.id.replace(/^sha256:/, '').slice(0, 12), `${(i.size / 1e6).toFixed(1)}MB`]);
    const widths = [0, 1, 2].map((c) => Math.max(['IMAGE', 'ID', 'SIZE'][c]!.length, ...rows.map((r) => r[c]!.length)));
    for (const r of [['IMAGE', 'ID', 'SIZE'], ...rows]) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('   ').trimEnd());
  });
image
  .command('rm <reference>')
  .description('remove an image name (an ID removes every name of the image); unused layers go too')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .action(async (reference: string, opts: { dataDir: string }) => {
    const store = await imageStore(opts.dataDir);
    for (const name of (await store.remove(reference)).removed) console.log(`removed ${name}`);
  });
function registryAuth(opts: { username?: string; password?: string }): { auth?: { username: string; password: string } } {
  if (opts.username === undefined) return {};
  return { auth: { username: opts.username, password: opts.password ?? process.env.NAMI_REGISTRY_PASSWORD ?? '' } };
}
image
  .command('pull <reference>')
  .description('pull an image from an OCI distribution registry into the store')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .option('--username <name>', 'registry user (password from --password or NAMI_REGISTRY_PASSWORD)')
  .option('--password <password>', 'registry password')
  .option('--insecure', 'plain http (loopback registries only)')
  .action(async (reference: string, opts: { dataDir: string; username?: string; password?: string; insecure?: boolean }) => {
    const { pullImage } = await import('../agent/images/index.js');
    const store = await imageStore(opts.dataDir);
    let shown = 0;
    const pulled = await pullImage(store, reference, {
      ...registryAuth(opts),
      insecure: opts.insecure ?? false,
      onProgress: (p) => {
        if (Date.now() - shown < 1000) return;
        shown = Date.now();
        console.log(`  ${p.layer.slice(7, 19)}: ${(p.downloaded / 1e6).toFixed(1)}/${(p.total / 1e6).toFixed(1)} MB`);
      },
    });
    console.log(`pulled ${pulled.reference} ${pulled.digest}`);
  });
image
  .command('push <reference>')
  .description('push an image of the store to an OCI distribution registry')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .option('--username <name>', 'registry user (password from --password or NAMI_REGISTRY_PASSWORD)')
  .option('--password <password>', 'registry password')
  .option('--insecure', 'plain http (loopback registries only)')
  .option('--source <reference>', 'the image in the store to push (default: the same reference)')
  .action(async (reference: string, opts: { dataDir: string; username?: string; password?: string; insecure?: boolean; source?: string }) => {
    const { pushImage } = await import('../agent/images/index.js');
    const store = await imageStore(opts.dataDir);
    const pushed = await pushImage(store, reference, { ...registryAuth(opts), insecure: opts.insecure ?? false, ...(opts.source ? { source: opts.source } : {}) });
    console.log(`pushed ${pushed.reference} ${pushed.digest}`);
  });
image
  .command('busybox')
  .description('build a small busybox image from Debian\'s busybox-static (/bin/busybox) into the store')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .option('--tag <reference...>', 'names to give it (default nami.dev/busybox:latest and busybox:<version>)')
  .action(async (opts: { dataDir: string; tag?: string[] }) => {
    const { buildBusyboxImage } = await import('../agent/images/index.js');
    const store = await imageStore(opts.dataDir);
    const built = await buildBusyboxImage(store, opts.tag ? { tags: opts.tag } : {});
    console.log(`built busybox ${built.version}: ${built.references.join(', ')} (${built.digest})`);
  });

image
  .command('build <context>')
  .description('build an image from a Containerfile (or Dockerfile) in <context>; RUN steps run in runc containers (root)')
  .requiredOption('-t, --tag <name...>', 'names to give the image (e.g. localhost/hello:1)')
  .option('-f, --file <file>', 'the Containerfile (default: <context>/Containerfile, else <context>/Dockerfile)')
  .option('--build-arg <name=value...>', 'values for ARG (NAME alone takes $NAME from the environment)')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .action(async (context: string, opts: { tag: string[]; file?: string; buildArg?: string[]; dataDir: string }) => {
    const { buildImage, RunFailedError } = await import('../agent/images/build/index.js');
    const buildArgs: Record<string, string> = {};
    for (const a of opts.buildArg ?? []) {
      const eq = a.indexOf('=');
      if (eq === 0) throw new Error(`--build-arg ${a}: missing name`);
      if (eq > 0) buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
      else if (process.env[a] !== undefined) buildArgs[a] = process.env[a]!;
    }
    const store = await imageStore(opts.dataDir);
    const abort = new AbortController();
    const interrupt = () => abort.abort();
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    try {
      await buildImage(store, {
        context,
        tags: opts.tag,
        ...(opts.file ? { file: opts.file } : {}),
        buildArgs,
        signal: abort.signal,
        onProgress: (line) => console.log(line),
        onOutput: (chunk) => process.stdout.write(chunk),
      });
    } catch (e) {
      // the command's output was shown as it ran; the build ends with its exit code
      if (e instanceof RunFailedError) {
        console.error(`nami: ${e.message}`);
        process.exit(e.exitCode > 0 && e.exitCode < 256 ? e.exitCode : 1);
      }
      throw e;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  });
image
  .command('save <reference> <file>')
  .description('write an image as an OCI layout tar (skopeo oci-archive:, podman load, nami image import)')
  .option('--data-dir <dir>', 'the node\'s data directory', defaultDataDir)
  .action(async (reference: string, file: string, opts: { dataDir: string }) => {
    const { saveOciArchive } = await import('../agent/images/index.js');
    const store = await imageStore(opts.dataDir);
    const saved = await saveOciArchive(store, reference, file);
    console.log(`saved ${saved.reference} (${saved.digest}) to ${file}`);
  });

/** `scheduler` and `controllers`: one part of the control plane, against any API server. */
function componentCommand(name: 'scheduler' | 'controllers', description: string): void {
  program
    .command(name)
    .description(description)
    .option('--kubeconfig <file>', 'credentials of the cluster', defaultKubeconfig)
    .option('--node-monitor-grace-period <seconds>', 'how long a node may go unheard before it is marked NotReady/Unknown', '40')
    .option('--service-account-private-key-file <file>', "the key that signs the tokens of service account token Secrets (the API server's DIR/pki/sa.key); without it they are not filled")
    .action(async (opts: { kubeconfig: string; nodeMonitorGracePeriod: string; serviceAccountPrivateKeyFile?: string }) => {
      const { runComponentsCommand } = await import('./components-command.js');
      await runComponentsCommand(name, opts);
    });
}

componentCommand('scheduler', 'run the scheduler against an API server (leader-elected on the kube-scheduler Lease)');
componentCommand('controllers', 'run the controller manager against an API server (leader-elected on the kube-controller-manager Lease)');

serverCommand('server', 'run the control plane: the API server on an embedded store (or etcd)');
serverCommand('up', 'bring up a one-machine cluster: the control plane and this machine as its node (runc containers when root, else plain processes)');

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`nami: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
