// The build context: globs, .containerignore / .dockerignore with ! exceptions, and sources that
// try to leave the context. No root needed.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BuildContext } from '../../../src/agent/images/build/index.js';
import { tempDir } from './helpers.js';

describe('build context', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    t = await tempDir('nami-build-ctx-');
    await mkdir(join(t.dir, 'src', 'lib'), { recursive: true });
    await mkdir(join(t.dir, 'node_modules', 'x'), { recursive: true });
    for (const f of ['a.txt', 'b.txt', 'c.md', 'src/main.js', 'src/lib/util.js', 'src/lib/util.test.js', 'node_modules/x/index.js', 'README.md']) await writeFile(join(t.dir, f), f);
    await symlink('/etc', join(t.dir, 'outside'));
  });
  after(() => t?.cleanup());

  it('expands globs within one path component, sorted', async () => {
    const ctx = await BuildContext.open(t.dir);
    assert.deepEqual(await ctx.match('*.txt'), ['a.txt', 'b.txt']);
    assert.deepEqual(await ctx.match('src/*/util.js'), ['src/lib/util.js']);
    assert.deepEqual(await ctx.match('/src/main.js'), ['src/main.js'], 'a leading / is the context root');
    assert.deepEqual(await ctx.match('.'), ['']);
    await assert.rejects(ctx.match('*.nope'), /\*\.nope: no such file or directory in the build context/);
  });

  it('.dockerignore excludes paths and their contents, ! brings some back, the last match wins', async () => {
    await writeFile(join(t.dir, '.dockerignore'), '# comment\nnode_modules\n**/*.test.js\n*.md\n!README.md\n');
    try {
      const ctx = await BuildContext.open(t.dir);
      assert.equal(ctx.ignoreFile, '.dockerignore');
      assert.ok(ctx.excluded('node_modules/x/index.js'));
      assert.ok(ctx.excluded('src/lib/util.test.js'));
      assert.ok(!ctx.excluded('src/lib/util.js'));
      assert.ok(ctx.excluded('c.md'));
      assert.ok(!ctx.excluded('README.md'));
      assert.deepEqual(await ctx.match('*.md'), ['README.md']);
      await assert.rejects(ctx.match('node_modules/x/index.js'), /excluded by \.dockerignore/);
    } finally {
      await writeFile(join(t.dir, '.dockerignore'), '');
    }
  });

  it('refuses sources outside the context, also through symlinks', async () => {
    const ctx = await BuildContext.open(t.dir);
    await assert.rejects(ctx.match('../x'), /\.\.\/x: outside the build context/);
    await assert.rejects(ctx.match('outside/passwd'), /resolves outside the build context/);
    await assert.rejects(BuildContext.open(join(t.dir, 'missing')), /build context .*missing/);
  });
});
