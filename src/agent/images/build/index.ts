// `nami image build`: a Containerfile / Dockerfile subset built into the image store.
export { ContainerfileError, BuildStepError, RunFailedError } from './errors.js';
export { parseContainerfile, logicalLines, type Instruction, type InstructionKind, type CommandForm } from './parser.js';
export { processWord, processWords, splitWords, substituteOnly, SubstitutionError, type Vars } from './expand.js';
export { evaluate, initialState, declareArgs, fromImage, exposedPorts, joinWorkdir, envMap, type BuildState, type StepAction } from './evaluate.js';
export { buildImage, containerfilePath, type BuildOptions, type BuiltImage } from './builder.js';
export { BuildContext, BuildContextError } from './context.js';
export { layerFromUpper, opaqueDirs, type LayerDiff } from './layer-diff.js';
