// How a request's query turns into its verb and options, as kube-apiserver
// reads them: boolean parameters by runtime.Convert_Slice_string_To_bool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestInfo, queryFlag } from '../../src/apiserver/http/request-info.js';

test('a boolean query parameter is false only when absent, "false" or "0", in any case', () => {
  const flag = (query: string) => queryFlag(new URLSearchParams(query), 'watch');
  for (const yes of ['watch=true', 'watch=True', 'watch=TRUE', 'watch=1', 'watch=', 'watch', 'watch=yes']) assert.equal(flag(yes), true, yes);
  for (const no of ['', 'other=true', 'watch=false', 'watch=False', 'watch=0']) assert.equal(flag(no), false, no);
});

test('watch=True (the Python client) makes a GET of a collection a watch', () => {
  const verb = (query: string) => parseRequestInfo('GET', '/api/v1/namespaces/default/configmaps', new URLSearchParams(query)).verb;
  assert.equal(verb('watch=True'), 'watch');
  assert.equal(verb('watch=1'), 'watch');
  assert.equal(verb('watch=false'), 'list');
  assert.equal(verb(''), 'list');
});
