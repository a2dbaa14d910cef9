// --token-auth-file as Kubernetes reads it: CSV records of token, user, uid
// and an optional quoted group list; what is wrong names the file and line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadTokenFile, parseTokenFile, TokenFileError } from '../../src/apiserver/authn/index.js';

const parse = (text: string) => parseTokenFile(text, 'tokens.csv');

describe('token file parsing', () => {
  it('maps each token to its user name and uid', () => {
    const { tokens, warnings } = parse('s3cret,alice,1001\nt0ken,bob,1002\n');
    assert.deepEqual(tokens.get('s3cret'), { name: 'alice', uid: '1001', groups: [] });
    assert.deepEqual(tokens.get('t0ken'), { name: 'bob', uid: '1002', groups: [] });
    assert.equal(tokens.size, 2);
    assert.deepEqual(warnings, []);
  });

  it('splits the quoted fourth column into groups, kept as written', () => {
    const { tokens } = parse('a,alice,1,"system:masters,dev"\nb,bob,2,ops\nc,carol,3," spaced , out"\n');
    assert.deepEqual(tokens.get('a')?.groups, ['system:masters', 'dev']);
    assert.deepEqual(tokens.get('b')?.groups, ['ops']);
    // Kubernetes does not trim group names either.
    assert.deepEqual(tokens.get('c')?.groups, [' spaced ', ' out']);
  });

  it('ignores columns after the fourth', () => {
    assert.deepEqual(parse('a,alice,1,dev,extra,more\n').tokens.get('a'), { name: 'alice', uid: '1', groups: ['dev'] });
  });

  it('reads quoted fields: commas, doubled quotes, line breaks; spaces around fields are kept', () => {
    const { tokens } = parse('"to,ken","Doe, ""JD"" Jane",7\n"multi\nline",m,8\n tok , sp ,9\n');
    assert.deepEqual(tokens.get('to,ken'), { name: 'Doe, "JD" Jane', uid: '7', groups: [] });
    assert.equal(tokens.get('multi\nline')?.name, 'm');
    assert.equal(tokens.get(' tok ')?.name, ' sp ');
  });

  it('reads CRLF files and a last line without a newline', () => {
    const { tokens } = parse('a,alice,1\r\nb,bob,2,"x,y"');
    assert.deepEqual(tokens.get('a'), { name: 'alice', uid: '1', groups: [] });
    assert.deepEqual(tokens.get('b')?.groups, ['x', 'y']);
  });

  it('skips blank lines, and counts them in line numbers', () => {
    const { tokens } = parse('\n\na,alice,1\n\n\nb,bob,2\n\n');
    assert.deepEqual([...tokens.keys()], ['a', 'b']);
    assert.throws(() => parse('\n\na,alice,1\n\nb,bob\n'), /tokens\.csv, line 5/);
  });

  it('refuses a line with fewer than 3 columns, naming the file and the line', () => {
    assert.throws(
      () => parse('a,alice,1\nb,bob\nc,carol,3\n'),
      (err: unknown) => err instanceof TokenFileError && err.message === 'token file tokens.csv, line 2: must have at least 3 columns (token, user name, user uid), found 2',
    );
    // A line of spaces is one column, not a blank line (as in Go's CSV reader).
    assert.throws(() => parse('a,alice,1\n   \n'), /line 2: must have at least 3 columns .* found 1/);
  });

  it('lets the later line win for a duplicate token, with a warning naming both lines', () => {
    const { tokens, warnings } = parse('dup,alice,1\nother,bob,2\ndup,carol,3,admins\n');
    assert.deepEqual(tokens.get('dup'), { name: 'carol', uid: '3', groups: ['admins'] });
    assert.equal(tokens.size, 2);
    assert.deepEqual(warnings, ['token file tokens.csv, line 3: duplicate token (also on line 1); the later line wins']);
  });

  it('skips a line whose token is empty, with a warning', () => {
    const { tokens, warnings } = parse(',alice,1\nb,bob,2\n');
    assert.deepEqual([...tokens.keys()], ['b']);
    assert.deepEqual(warnings, ['token file tokens.csv, line 1: the token is empty; the line is ignored']);
  });

  it('refuses stray and unclosed quotes, naming the line and column', () => {
    assert.throws(() => parse('a,alice,1\nb,bo"b,2\n'), (err: unknown) => err instanceof TokenFileError && /tokens\.csv: parse error on line 2, column 5: bare " in non-quoted-field/.test(err.message));
    assert.throws(() => parse('a,"ali"ce,1\n'), /parse error on line 1, column 7: extraneous or missing " in quoted-field/);
    assert.throws(() => parse('a,alice,1\nb,"bob,2\nc,carol,3\n'), /record on line 2; parse error on line 3, column 11: extraneous or missing " in quoted-field/);
  });

  it('says which file cannot be read and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nami-token-file-'));
    try {
      const missing = join(dir, 'missing.csv');
      assert.throws(() => loadTokenFile(missing), (err: unknown) => err instanceof TokenFileError && err.message.includes(missing) && err.message.includes('no such file'));
      assert.throws(() => loadTokenFile(dir), /it is a directory/);
      const good = join(dir, 'tokens.csv');
      writeFileSync(good, 'a,alice,1,"dev,ops"\n');
      assert.deepEqual(loadTokenFile(good).tokens.get('a'), { name: 'alice', uid: '1', groups: ['dev', 'ops'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
