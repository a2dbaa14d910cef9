// Errors of `nami image build`: where in the Containerfile, or which step failed and how.

/** Bad syntax or an unsupported instruction: names the file and the line. */
export class ContainerfileError extends Error {
  override readonly name = 'ContainerfileError';
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}:${line}: ${detail}`);
  }
}

/** A step that could not be carried out (missing source, unknown user, ...). */
export class BuildStepError extends Error {
  override readonly name = 'BuildStepError';
  constructor(readonly step: string, detail: string, options?: { cause?: unknown }) {
    super(`${step}: ${detail}`, options);
  }
}

/** A RUN whose command exited non-zero: the build stops with its exit code. */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
  constructor(readonly step: string, readonly exitCode: number, readonly output: string) {
    super(`${step}: the command exited with code ${exitCode}${output.trim() ? `; its output ended with:\n${output.trimEnd().split('\n').slice(-20).join('\n')}` : ''}`);
  }
}
