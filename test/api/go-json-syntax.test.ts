// Go's encoding/json syntax errors, word for word (kube-apiserver passes them
// on, and they never quote the text around the error).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goJsonSyntaxError } from '../../src/api/go-json-syntax.js';

describe("Go's JSON syntax errors", () => {
  it('accepts what Go accepts', () => {
    for (const ok of ['{}', ' {"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]} ', '[]', '0', '"s"', '{"a":{}}']) assert.equal(goJsonSyntaxError(ok), undefined, ok);
  });

  it('words each error as Go does', () => {
    const cases: [string, string][] = [
      ['notjson', "invalid character 'o' in literal null (expecting 'u')"],
      ['secret-value', "invalid character 's' looking for beginning of value"],
      ['', 'unexpected end of JSON input'],
      ['{"a":1', 'unexpected end of JSON input'],
      ['tr', "invalid character ' ' in literal true (expecting 'u')"],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b":2}', 'invalid character \'"\' after object key:value pair'],
      ['{1:2}', "invalid character '1' looking for beginning of object key string"],
      ['[1 2]', "invalid character '2' after array element"],
      ['{} x', "invalid character 'x' after top-level value"],
      ['01', "invalid character '1' after top-level value"],
      ['1.', "invalid character ' ' after decimal point in numeric literal"],
      ['1e+', "invalid character ' ' in exponent of numeric literal"],
      ['-x', "invalid character 'x' in numeric literal"],
      ['"a\\qb"', "invalid character 'q' in string escape code"],
      ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
      ['"a\tb"', "invalid character '\\t' in string literal"],
      ["'a'", "invalid character '\\'' looking for beginning of value"],
    ];
    for (const [text, want] of cases) assert.equal(goJsonSyntaxError(text), want, text);
  });
});
