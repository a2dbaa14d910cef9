// Containerfile parsing and evaluation: forms, continuations, substitution, ARG/--build-arg,
// and errors that name the file and line. Pure: no root needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ContainerfileError, evaluate, exposedPorts, fromImage, declareArgs, initialState, parseContainerfile, processWord, processWords,
  type Instruction,
} from '../../../src/agent/images/build/index.js';

function lineOf(fn: () => unknown): { line: number; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ContainerfileError, `expected a ContainerfileError, got ${String(e)}`);
    return { line: e.line, message: e.message };
  }
  assert.fail('expected an error');
}

/** Runs the instructions after FROM through evaluate; returns the state and the layer actions. */
function evalAll(src: string, buildArgs: Record<string, string> = {}) {
  const instrs = parseContainerfile(src);
  const state = initialState(new Map(Object.entries(buildArgs)));
  const actions = [];
  let image = '';
  let seenFrom = false;
  for (const i of instrs) {
    if (i.kind === 'FROM') {
      image = fromImage(state, i);
      seenFrom = true;
    } else if (!seenFrom && i.kind === 'ARG') declareArgs(state, i, true);
    else {
      const a = evaluate(state, i);
      if (a.kind !== 'config') actions.push(a);
    }
  }
  return { image, state, actions };
}

describe('Containerfile parser', () => {
  it('reads instructions case-insensitively, skips comments, and joins continuations', () => {
    const src = [
      '# syntax=docker/dockerfile:1',
      'from nami.dev/busybox',
      '',
      'run echo one \\',
      '  # a comment inside the continuation',
      '    two \\',
      '',
      '    three',
      'Cmd ["sh", "-c", "echo hi"]',
    ].join('\n');
    const instrs = parseContainerfile(src);
    assert.deepEqual(instrs.map((i) => [i.kind, i.line]), [['FROM', 2], ['RUN', 4], ['CMD', 9]]);
    const run = instrs[1] as Extract<Instruction, { command: unknown }>;
    assert.deepEqual(run.command, { form: 'shell', command: 'echo one     two     three' });
    assert.deepEqual((instrs[2] as Extract<Instruction, { command: unknown }>).command, { form: 'exec', args: ['sh', '-c', 'echo hi'] });
  });

  it('exec and shell forms of RUN, CMD and ENTRYPOINT; bad JSON falls back to the shell form', () => {
    const { state, actions } = evalAll('FROM scratch\nSHELL ["/bin/ash", "-eo"]\nRUN ["echo", "exec"]\nRUN echo $HOME\nENTRYPOINT [not json\nCMD ["a"]');
    assert.deepEqual(actions.map((a) => (a.kind === 'run' ? a.args : [])), [['echo', 'exec'], ['/bin/ash', '-eo', 'echo $HOME']]);
    assert.deepEqual(state.config.Entrypoint, ['/bin/ash', '-eo', '[not json']);
    assert.deepEqual(state.config.Cmd, ['a']);
  });

  it('ENTRYPOINT clears an inherited CMD but not one set in the file', () => {
    const inherited = initialState();
    inherited.config.Cmd = ['sh'];
    for (const i of parseContainerfile('FROM x\nENTRYPOINT ["/app"]').slice(1)) evaluate(inherited, i);
    assert.equal(inherited.config.Cmd, undefined);
    const { state } = evalAll('FROM x\nCMD ["--help"]\nENTRYPOINT ["/app"]');
    assert.deepEqual(state.config.Cmd, ['--help']);
  });

  it('ENV in both forms, LABEL, EXPOSE, USER and relative WORKDIR, with substitution', () => {
    const { state, actions } = evalAll([
      'FROM scratch',
      'ENV A=1 B="two words" C=${A}x', // C sees A as it was before this line (unset), as in Docker
      'ENV LEGACY value with  spaces',
      'ENV D=$A\\$A E=\'$A\'',
      'LABEL "org.example.name"="hello $B" version=$A',
      'EXPOSE 80 8080/tcp 53/udp ${A}000-1001',
      'WORKDIR /app',
      'WORKDIR sub/$A',
      'USER ${U:-nobody}',
      'COPY a b ./',
      'COPY ["x$A", "y"]',
    ].join('\n'));
    assert.deepEqual(state.config.Env, ['A=1', 'B=two words', 'C=x', 'LEGACY=value with  spaces', 'D=1$A', 'E=$A']);
    assert.deepEqual(state.config.Labels, { 'org.example.name': 'hello two words', version: '1' });
    assert.deepEqual(Object.keys(state.config.ExposedPorts ?? {}), ['80/tcp', '8080/tcp', '53/udp', '1000/tcp', '1001/tcp']);
    assert.equal(state.config.WorkingDir, '/app/sub/1');
    assert.equal(state.config.User, 'nobody');
    assert.deepEqual(actions, [
      { kind: 'copy', add: false, sources: ['a', 'b'], dest: '/app/sub/1', destIsDir: true },
      { kind: 'copy', add: false, sources: ['x1'], dest: '/app/sub/1/y', destIsDir: false },
    ]);
  });

  it('RUN is not substituted by the builder: its shell does it, with ENV and ARG in the environment', () => {
    const { actions } = evalAll('FROM scratch\nARG V=default\nENV E=e\nRUN echo $V $E', { V: 'given' });
    const run = actions[0]!;
    assert.equal(run.kind, 'run');
    if (run.kind !== 'run') return;
    assert.deepEqual(run.args, ['/bin/sh', '-c', 'echo $V $E']);
    assert.ok(run.env.includes('V=given') && run.env.includes('E=e') && run.env.some((e) => e.startsWith('PATH=')));
  });

  it('ARG before FROM names the image; --build-arg overrides defaults; ARG after FROM inherits the global default', () => {
    const src = 'ARG TAG=1.0\nARG REG=nami.dev\nFROM $REG/app:${TAG}\nARG TAG\nENV T=$TAG';
    assert.equal(evalAll(src).image, 'nami.dev/app:1.0');
    const r = evalAll(src, { TAG: '2.0' });
    assert.equal(r.image, 'nami.dev/app:2.0');
    assert.deepEqual(r.state.config.Env, ['T=2.0']);
    assert.deepEqual([...r.state.usedBuildArgs], ['TAG']);
  });

  it('COPY/ADD flags, and a multi-source COPY needs a directory destination', () => {
    const [, copy] = parseContainerfile('FROM scratch\nCOPY --chown=1000:1000 --chmod=0755 a /b');
    assert.deepEqual(copy, { line: 2, text: 'COPY --chown=1000:1000 --chmod=0755 a /b', kind: 'COPY', sources: ['a'], dest: '/b', json: false, chown: '1000:1000', chmod: '0755' });
    assert.throws(() => evalAll('FROM scratch\nCOPY a b /c'), /more than one source needs a destination directory ending in \//);
  });

  it('word processing: quotes, escapes and ${VAR} modifiers', () => {
    const vars = new Map([['X', 'x'], ['EMPTY', '']]);
    assert.deepEqual(processWords(`a "b c" 'd $X' e\\ f $X`, vars), ['a', 'b c', 'd $X', 'e f', 'x']);
    assert.equal(processWord('${X:-d}${NOPE:-d}${EMPTY:-e}${EMPTY-e}', vars), 'xde');
    assert.equal(processWord('${X:+set}${NOPE:+set}|$', vars), 'set|$');
    assert.throws(() => processWord('${NOPE:?must be given}', vars), /NOPE: must be given/);
  });

  it('ports are validated', () => {
    assert.deepEqual(exposedPorts('9090/UDP'), ['9090/udp']);
    assert.throws(() => exposedPorts('http'), /invalid port "http"/);
    assert.throws(() => exposedPorts('0'), /invalid port/);
  });

  it('errors name the file and line', () => {
    assert.deepEqual(lineOf(() => parseContainerfile('FROM scratch\n\nHEALTHCHECK CMD true', 'ctx/Containerfile')), {
      line: 3,
      message: 'ctx/Containerfile:3: HEALTHCHECK is not supported by nami image build (supported: FROM, RUN, CMD, ENTRYPOINT, SHELL, ENV, LABEL, ARG, COPY, ADD, EXPOSE, USER, WORKDIR, STOPSIGNAL, VOLUME)',
    });
    assert.match(lineOf(() => parseContainerfile('FROM scratch\nRUN true \\\n  && false\nFOO bar')).message, /^Containerfile:4: unknown instruction "FOO"/);
    assert.deepEqual(lineOf(() => parseContainerfile('# only a comment\nRUN true')).line, 2);
    assert.match(lineOf(() => parseContainerfile('RUN true')).message, /first instruction must be FROM/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nFROM b')).message, /^Containerfile:2: multi-stage builds/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nENV ONLYNAME')).message, /^Containerfile:2: ENV ONLYNAME has no value/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nENV A=1 B')).message, /^Containerfile:2: ENV: "B" is not of the form name=value/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nLABEL a="unclosed')).message, /^Containerfile:2: unterminated double quote/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nCOPY --from=build /x /y')).message, /^Containerfile:2: COPY --from/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nRUN --network=none true')).message, /^Containerfile:2: RUN --network is not supported/);
    assert.match(lineOf(() => parseContainerfile('FROM a\nCOPY onlyone')).message, /^Containerfile:2: COPY needs at least one source and a destination/);
    assert.match(lineOf(() => parseContainerfile('')).message, /has no instructions/);
  });
});
