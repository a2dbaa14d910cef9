// `nami image build`: runs a Containerfile against the image store. Metadata instructions change
// the image config; each COPY, ADD and RUN is a step on an overlay of the layers so far whose
// upper dir becomes a new gzip'd layer. The result (config, manifest) is stored under the tags.
// Every mount, runc container and temp dir of a step goes when the step ends, failed or not.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hostPlatform, MediaType, type ImageConfigFile, type ImageManifest } from '../oci.js';
import { normalizeReference } from '../reference.js';
import { sha256, type ImageStore, type LayerInfo } from '../store.js';
import { unpackLayer } from '../unpack.js';
import { SpecError } from '../../runtimes/container-env.js';
import { resolveImageUser } from '../../runtimes/runc/spec.js';
import { BuildContext, BuildContextError } from './context.js';
import { copyIntoRootfs } from './copy.js';
import { BuildStepError, ContainerfileError, RunFailedError } from './errors.js';
import { declareArgs, evaluate, fromImage, initialState, type StepAction } from './evaluate.js';
import { SubstitutionError } from './expand.js';
import { layerFromUpper } from './layer-diff.js';
import { parseContainerfile, type Instruction } from './parser.js';
import { mountStepRootfs, unmountAll } from './rootfs.js';
import { accountFiles, runStep, RunStepError } from './run-step.js';

export interface BuildOptions {
  /** the build context directory */
  context: string;
  /** default: <context>/Containerfile, else <context>/Dockerfile */
  file?: string;
  /** names for the result (normalized: "hello" → docker.io/library/hello:latest) */
  tags: string[];
  buildArgs?: Record<string, string>;
  runc?: string;
  /** progress lines ("STEP 2/6: RUN ...", warnings, the result) */
  onProgress?: (line: string) => void;
  /** what RUN commands print */
  onOutput?: (chunk: string) => void;
  signal?: AbortSignal;
}

export interface BuiltImage {
  references: string[];
  /** manifest digest */
  digest: string;
  /** config digest: the image ID */
  id: string;
  layers: LayerInfo[];
}

/** Which file to build: -f, or Containerfile, or Dockerfile in the context. */
export function containerfilePath(context: string, file?: string): string {
  if (file) return resolve(file);
  const cf = join(context, 'Containerfile');
  if (existsSync(cf) || !existsSync(join(context, 'Dockerfile'))) return cf;
  return join(context, 'Dockerfile');
}

export async function buildImage(store: ImageStore, opts: BuildOptions): Promise<BuiltImage> {
  if (opts.tags.length === 0) throw new Error('a build needs at least one name (-t NAME)');
  const tags = opts.tags.map(normalizeReference);
  const context = await BuildContext.open(opts.context);
  const path = containerfilePath(context.dir, opts.file);
  const display = relative(process.cwd(), path) || path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BuildContextError(`cannot read ${display}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (want a Containerfile or Dockerfile in the context, or -f FILE)' : (e as Error).message}`);
  }
  const instrs = parseContainerfile(text, display);
  const progress = opts.onProgress ?? (() => {});
  const state = initialState(new Map(Object.entries(opts.buildArgs ?? {})));
  const platform = hostPlatform();
  const created = () => new Date().toISOString();

  let baseConfig: ImageConfigFile | undefined;
  const layers: LayerInfo[] = [];
  const history: NonNullable<ImageConfigFile['history']> = [];
  const work = join(store.root, 'tmp', `build-${process.pid}-${randomBytes(6).toString('hex')}`);
  let seenFrom = false;
  /** Errors that are not about a step's execution get the file and line. */
  const at = (i: Instruction, e: unknown): never => {
    if (e instanceof SubstitutionError || (e instanceof Error && e.constructor === Error && !(e instanceof BuildStepError))) {
      throw new ContainerfileError(display, i.line, e.message);
    }
    throw e;
  };

  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    for (const [n, instr] of instrs.entries()) {
      const stepName = `STEP ${n + 1}/${instrs.length}: ${instr.text}`;
      progress(stepName);
      if (opts.signal?.aborted) throw new BuildStepError(stepName, 'the build was interrupted');
      if (!seenFrom) {
        if (instr.kind === 'ARG') {
          try {
            declareArgs(state, instr, true);
          } catch (e) {
            at(instr, e);
          }
          continue;
        }
        if (instr.kind !== 'FROM') throw new ContainerfileError(display, instr.line, 'the first instruction must be FROM');
        seenFrom = true;
        let name: string;
        try {
          name = fromImage(state, instr);
        } catch (e) {
          return at(instr, e);
        }
        if (name === 'scratch') continue;
        const base = await store.find(name).catch(() => undefined);
        if (!base) {
          throw new BuildStepError(stepName, `image ${JSON.stringify(name)} is not in the image store; pull it first (nami image pull ${name})${/busybox/.test(name) ? ' or build the local busybox image (nami image busybox)' : ''}`);
        }
        baseConfig = await store.readJsonBlob<ImageConfigFile>(base.id);
        state.config = structuredClone(baseConfig.config ?? {});
        layers.push(...base.layers);
        history.push(...(baseConfig.history ?? []));
        continue;
      }
      let action: StepAction;
      try {
        action = evaluate(state, instr);
      } catch (e) {
        return at(instr, e);
      }
      if (action.kind === 'config') {
        history.push({ created: created(), created_by: instr.text, comment: 'nami image build', empty_layer: true });
        continue;
      }
      const layer = await runLayerStep(store, work, n, stepName, layers, async (rootfs) => {
        if (action.kind === 'run') {
          const r = await runStep({
            rootfs,
            dir: join(work, `run-${n}`),
            args: action.args,
            env: action.env,
            cwd: action.cwd,
            user: action.user,
            ...(opts.runc ? { runc: opts.runc } : {}),
            ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          }).catch((e: unknown) => {
            if (e instanceof RunStepError) throw new BuildStepError(stepName, e.message, { cause: e });
            throw e;
          });
          if (opts.signal?.aborted) throw new BuildStepError(stepName, 'the build was interrupted');
          if (r.exitCode !== 0) throw new RunFailedError(stepName, r.exitCode, r.output);
        } else {
          let owner: { uid: number; gid: number } | undefined;
          if (action.chown !== undefined) {
            try {
              owner = resolveImageUser(action.chown, await accountFiles(rootfs));
            } catch (e) {
              if (e instanceof SpecError) throw new BuildStepError(stepName, `--chown=${action.chown}: ${e.message}`);
              throw e;
            }
          }
          try {
            await copyIntoRootfs(context, rootfs, action, owner);
          } catch (e) {
            if (e instanceof BuildContextError) throw new BuildStepError(stepName, e.message, { cause: e });
            throw e;
          }
        }
      });
      layers.push(layer);
      history.push({ created: created(), created_by: action.kind === 'run' ? `RUN ${action.args.join(' ')}` : instr.text, comment: 'nami image build' });
    }
    const unused = [...state.buildArgs.keys()].filter((k) => !state.usedBuildArgs.has(k));
    if (unused.length > 0) progress(`[Warning] one or more build args were not consumed: ${unused.join(', ')}`);

    progress(`COMMIT ${tags.join(', ')}`);
    const config: ImageConfigFile = {
      created: created(),
      architecture: baseConfig?.architecture ?? platform.architecture,
      os: baseConfig?.os ?? platform.os,
      ...((baseConfig ? baseConfig.variant : platform.variant) ? { variant: (baseConfig ? baseConfig.variant : platform.variant)! } : {}),
      config: state.config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    };
    const cfg = await store.writeBlob(Buffer.from(JSON.stringify(config)), {}, 'image config');
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const mb = await store.writeBlob(Buffer.from(JSON.stringify(manifest)), {}, 'manifest');
    await store.addImage(tags, { mediaType: MediaType.ociManifest, digest: mb.digest, size: mb.size });
    progress(`--> ${cfg.digest.slice(7, 19)}`);
    for (const t of tags) progress(`Successfully tagged ${t}`);
    progress(cfg.digest.slice(7));
    return { references: tags, digest: mb.digest, id: cfg.digest, layers };
  } finally {
    await unmountAll(work);
    await rm(work, { recursive: true, force: true });
  }
}

/** One layer-producing step: overlay over `below`, `fn` changes the merged rootfs, the upper dir becomes the layer. */
async function runLayerStep(store: ImageStore, work: string, n: number, stepName: string, below: LayerInfo[], fn: (rootfs: string) => Promise<void>): Promise<LayerInfo> {
  const lowers: string[] = [];
  for (const l of below) lowers.push(await unpackLayer(store, l, { whiteouts: 'overlay' }));
  const dir = join(work, `step-${n}`);
  const fs = await mountStepRootfs(dir, lowers);
  let diff;
  try {
    await fn(fs.merged);
  } finally {
    await fs.unmount();
  }
  try {
    diff = await layerFromUpper(fs.upper);
  } catch (e) {
    throw new BuildStepError(stepName, `cannot read the step's changes: ${(e as Error).message}`, { cause: e });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const gz = gzipSync(diff.tar);
  const blob = await store.writeBlob(gz, {}, `layer of ${stepName}`);
  return { digest: blob.digest, diffId: sha256(diff.tar), mediaType: MediaType.ociLayerGzip, size: blob.size };
}
