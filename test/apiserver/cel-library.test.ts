// Kubernetes' CEL libraries on cel-js: rules written for a Kubernetes API
// server type-check and evaluate the same way, with Kubernetes' error messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Environment, EvaluationError } from '@marcbachmann/cel-js';
import { registerKubernetesLibraries } from '../../src/apiserver/cel/library.js';

const environments = new Map<string, Environment>();

/** An environment as CRD validation builds one, with `self` of the given CEL type. */
function envWith(selfType: string): Environment {
  let env = environments.get(selfType);
  if (env === undefined) {
    env = registerKubernetesLibraries(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: true }));
    env.registerVariable('self', selfType);
    environments.set(selfType, env);
  }
  return env;
}

function run(expr: string, self?: unknown, selfType = 'dyn'): unknown {
  const env = envWith(selfType);
  const checked = env.check(expr);
  assert.equal(checked.valid, true, `${expr}: ${checked.error?.message}`);
  return env.evaluate(expr, { self });
}

function runtimeError(expr: string, self?: unknown, selfType = 'dyn'): string {
  const env = envWith(selfType);
  const checked = env.check(expr);
  assert.equal(checked.valid, true, `${expr}: ${checked.error?.message}`);
  try {
    env.evaluate(expr, { self });
  } catch (err) {
    assert.ok(err instanceof EvaluationError, `${expr}: ${String(err)}`);
    return err.summary;
  }
  assert.fail(`${expr} evaluated without an error`);
}

function typeError(expr: string, selfType = 'dyn'): string {
  const checked = envWith(selfType).check(expr);
  assert.equal(checked.valid, false, `${expr} type-checks as ${checked.type}`);
  return checked.error?.summary ?? '';
}

function assertAll(cases: [string, unknown][], self?: unknown, selfType = 'dyn'): void {
  for (const [expr, want] of cases) assert.deepEqual(run(expr, self, selfType), want, expr);
}

describe('the Kubernetes list library', () => {
  it('isSorted tells whether ints, doubles, strings, bools, bytes, durations and timestamps are in order', () => {
    assert.equal(run('self.isSorted()', [1n, 2n, 2n, 5n], 'list<int>'), true);
    assert.equal(run('self.isSorted()', [3n, 1n], 'list<int>'), false);
    assertAll([
      ['["a", "b", "b", "c"].isSorted()', true],
      ['[2.0, 1.0].isSorted()', false],
      ['[false, true].isSorted()', true],
      ['[b"b", b"a"].isSorted()', false],
      ['[duration("1s"), duration("1m")].isSorted()', true],
      ['[timestamp("2024-01-02T00:00:00Z"), timestamp("2024-01-01T00:00:00Z")].isSorted()', false],
      ['[1].isSorted()', true],
      ['[].isSorted()', true],
    ]);
  });

  it('isSorted orders strings by code point, as Go compares them', () => {
    // U+FF5E sorts before U+1F600 by code point but after it by UTF-16 unit.
    assert.equal(run('self.isSorted()', ['\uFF5E', '\u{1F600}'], 'list<string>'), true);
  });

  it('sum adds ints, doubles and durations, and an empty list sums to the zero of its type', () => {
    assert.equal(run('self.sum()', [1n, 3n], 'list<int>'), 4n);
    assert.equal(run('self.sum()', [], 'list<int>'), 0n);
    assert.equal(run('self.sum()', [], 'list<double>'), 0);
    assertAll([
      ['[1.0, 3.0].sum()', 4],
      ['[duration("1m"), duration("1s")].sum() == duration("61s")', true],
      ['"1, 2, 3, 4".findAll("[0-9]+").map(x, int(x)).sum() < 100', true],
    ]);
  });

  it('sum reports int overflow as CEL arithmetic does', () => {
    assert.equal(runtimeError('self.sum()', [2n ** 62n, 2n ** 62n], 'list<int>'), 'integer overflow');
  });

  it('min and max return the extreme element and fail on an empty list with Kubernetes’ message', () => {
    assertAll([
      ['[1, 3].min()', 1n],
      ['[1, 3].max()', 3n],
      ['["b", "a", "c"].min()', 'a'],
      ['[duration("2s"), duration("1s")].max() == duration("2s")', true],
      ['([0] + [5, -2]).min()', -2n],
    ]);
    assert.equal(runtimeError('self.min()', [], 'list<int>'), 'min called on empty list');
    assert.equal(runtimeError('self.max()', [], 'list<string>'), 'max called on empty list');
  });

  it('on a list<dyn> the functions follow the elements, whatever overload the checker picked', () => {
    assert.equal(run('self.max()', [1.5, 2.5], 'list<dyn>'), 2.5);
    assert.equal(run('self.sum()', [1.5, 2.5], 'list<dyn>'), 4);
    assert.equal(run('self.items.isSorted()', { items: ['a', 'b'] }), true);
  });

  it('indexOf and lastIndexOf find an element by CEL equality and return -1 when it is absent', () => {
    assertAll([
      ['[1, 2, 2, 3].indexOf(2)', 1n],
      ['["a", "b", "b", "c"].lastIndexOf("b")', 2n],
      ['[1.0].indexOf(1.1)', -1n],
      ['[[1], [2, 3]].indexOf([2, 3])', 1n],
      ['[].indexOf("string")', -1n],
    ]);
    assert.equal(run('self.indexOf({"a": 2})', [{ a: 1n }, { a: 2n }], 'list<map<string, int>>'), 1n);
  });

  it('refuses element types Kubernetes does not declare the functions for', () => {
    assert.match(typeError('[{"a": 1}].isSorted()'), /no matching overload/);
    assert.match(typeError('["a"].sum()'), /no matching overload/);
    assert.match(typeError('[1].indexOf("a")'), /no matching overload/);
  });
});

describe('the sets extension', () => {
  it('contains, equivalent and intersects compare lists as sets', () => {
    assertAll([
      ['sets.contains([], [])', true],
      ['sets.contains([], [1])', false],
      ['sets.contains([1, 2, 3, 4], [2, 3])', true],
      ['sets.equivalent([1], [1, 1])', true],
      ['sets.equivalent([1, 2], [1])', false],
      ['sets.intersects([1], [])', false],
      ['sets.intersects([1], [1, 2])', true],
      ['sets.intersects([[1], [2, 3]], [[1, 2], [2, 3]])', true],
    ]);
    assert.equal(run('sets.contains(self, ["b"])', ['a', 'b'], 'list<string>'), true);
  });

  it('needs both lists to hold the same type', () => {
    assert.match(typeError('sets.contains([1], ["a"])'), /no matching overload/);
  });
});

describe('two-variable comprehensions', () => {
  it('all, exists and existsOne bind an index or key and a value', () => {
    assertAll([
      ['[1, 2, 3].all(i, v, i < v)', true],
      ['{"hello": "world", "taco": "taco"}.all(k, v, k != v)', false],
      ['{"h": ["hello", "hi"], "j": ["joke", "jog"]}.all(k, vals, vals.all(v, v.startsWith(k)))', true],
      ['{"greeting": "hello", "farewell": "goodbye"}.exists(k, v, k.startsWith("good") || v.endsWith("bye"))', true],
      ['[1, 2, 4, 8, 16].exists(i, v, v == 1024 && i == 10)', false],
      ['[1, 2, 1, 3, 1, 4].existsOne(i, v, i == 1 || v == 1)', false],
      ['[1, 1, 2, 2, 3, 3].existsOne(i, v, i == 2 && v == 2)', true],
      ['{"i": 0, "j": 1, "k": 2}.exists_one(i, v, i == "l" || v == 1)', true],
    ]);
    assert.equal(run('self.all(name, port, port > 0 && name != "")', { http: 80n, https: 443n }, 'map<string, int>'), true);
  });

  it('all is decided by a false element even after an error, and otherwise reports the error', () => {
    assert.equal(run('[0, 1].all(i, v, 10 / v > 0 && v > 5)'), false);
    assert.equal(runtimeError('[1, 2].all(i, v, v / 0 == 1)'), 'division by zero');
  });

  it('transformList, transformMap and transformMapEntry build lists and maps, with an optional filter', () => {
    assertAll([
      ['[1, 2, 3].transformList(i, v, (i * v) + v)', [1n, 4n, 9n]],
      ['[1, 2, 3].transformList(i, v, i % 2 == 0, (i * v) + v)', [1n, 9n]],
      ['{"greeting": "hello", "farewell": "goodbye"}.transformList(k, _, k)', ['greeting', 'farewell']],
      ['[1, 2, 3].transformMap(i, v, (i * v) + v)[2]', 9n],
      ['[1, 2, 3].transformMap(i, v, i > 0, v).size()', 2n],
      ['{"greeting": "hello"}.transformMap(k, v, v + "!") == {"greeting": "hello!"}', true],
      ['{"greeting": "hello"}.transformMapEntry(k, v, {v: k}) == {"hello": "greeting"}', true],
    ]);
    assert.equal(runtimeError('{"greeting": "aloha", "farewell": "aloha"}.transformMapEntry(k, v, {v: k})'), 'insert failed: key aloha already exists');
  });

  it('type-checks the range and the variables', () => {
    assert.match(typeError('1.all(i, v, true)'), /cannot be range of a comprehension/);
    assert.match(typeError('[1].all(1, v, true)'), /argument must be a simple name/);
    assert.match(typeError('["a"].all(i, v, v > 1)'), /no such overload/);
    assert.match(typeError('[1].all(i, v, v)'), /must return bool/);
  });
});

describe('the Kubernetes regex library', () => {
  it('find returns the first match and findAll every match, up to a limit', () => {
    assertAll([
      ['"abc 123".find("[0-9]+")', '123'],
      ['"abc 123".find("xyz")', ''],
      ['"123 abc 456".findAll("[0-9]+")', ['123', '456']],
      ['"123 abc 456".findAll("[0-9]+", 1)', ['123']],
      ['"123 abc 456".findAll("[0-9]+", 0)', []],
      ['"123 abc 456".findAll("xyz")', []],
    ]);
  });

  it('findAll skips an empty match right after a match, as Go does', () => {
    assert.deepEqual(run('"1, 2, 3, 4".findAll("[0-9]*")'), ['1', '', '2', '', '3', '', '4']);
  });

  it('reads patterns as Go (RE2) regular expressions', () => {
    assertAll([
      ['"ABC".find("(?i)b")', 'B'],
      ['"ab12".find("[[:digit:]]+")', '12'],
      ['matches("ABC", "(?i)^abc$")', true],
      ['matches("abc", "^b")', false],
    ]);
    assert.equal(run('self.all(s, matches(s, "^[a-z]+$"))', ['abc', 'Abc'], 'list<string>'), false);
  });

  it('reports an invalid pattern as an illegal regex', () => {
    assert.match(runtimeError('"x".find("(")'), /^Illegal regex: /);
  });
});

describe('the strings extension at version 2', () => {
  it('charAt indexes code points and allows the index just past the end', () => {
    assertAll([
      ['"hello".charAt(4)', 'o'],
      ['"hello".charAt(5)', ''],
      ['"a😀b".charAt(1)', '😀'],
      ['"a😀b".charAt(2)', 'b'],
    ]);
    assert.equal(runtimeError('"hello".charAt(-1)'), 'index out of range: -1');
    assert.equal(runtimeError('"hello".charAt(6)'), 'index out of range: 6');
  });

  it('replace replaces all occurrences or the first n, as Go’s strings.Replace', () => {
    assertAll([
      ['"hello hello".replace("he", "we")', 'wello wello'],
      ['"hello hello".replace("he", "we", -1)', 'wello wello'],
      ['"hello hello".replace("he", "we", 1)', 'wello hello'],
      ['"hello hello".replace("he", "we", 0)', 'hello hello'],
      ['"abc".replace("", "-")', '-a-b-c-'],
      ['"abc".replace("", "-", 2)', '-a-bc'],
    ]);
  });

  it('strings.quote escapes a string into a double-quoted literal', () => {
    assertAll([
      ['strings.quote(\'single-quote with "double quote"\')', '"single-quote with \\"double quote\\""'],
      ['strings.quote("two escape sequences \\a\\n")', '"two escape sequences \\a\\n"'],
    ]);
  });

  it('format substitutes %s %d %f %e %b %x %X %o as cel-go does in the en_US locale', () => {
    assert.equal(run('"%s must be at most %d".format([self.name, self.max])', { name: 'replicas', max: 5n }), 'replicas must be at most 5');
    assertAll([
      ['"%f".format([3.14])', '3.140000'],
      ['"%.2f".format([1234.5678])', '1,234.57'],
      ['"%e".format([2.71828])', '2.718280\u202f×\u202f10⁰⁰'],
      ['"%b %x %X %o".format([5, 26, 26, 30])', '101 1a 1A 36'],
      ['"%x".format(["Hi"])', '4869'],
      ['"100%% %s".format(["done"])', '100% done'],
      ['"%s".format([1.5])', '1.5'],
      ['"%s".format([1e6])', '1e+06'],
      ['"%s".format([[1, 2, 3]])', '[1, 2, 3]'],
      ['"%s".format([["a", "b"]])', '["a", "b"]'],
      ['"%s".format([{"b": 2, "a": 1}])', '{"a":1, "b":2}'],
      ['"%s".format([duration("1h45m47s")])', '6347s'],
      ['"%s".format([timestamp("2023-02-03T23:31:20+00:00")])', '2023-02-03T23:31:20Z'],
      ['"%s".format([true])', 'true'],
    ]);
  });

  it('format reports a wrong argument type, a missing argument or an unknown clause', () => {
    assert.equal(runtimeError('"%d".format(["x"])'), 'error during formatting: decimal clause can only be used on integers, was given string');
    assert.equal(runtimeError('"%s %s".format(["a"])'), 'index 1 out of range');
    assert.equal(runtimeError('"%z".format([1])'), 'could not parse formatting clause: unrecognized formatting clause "z"');
  });

  it('leaves out reverse(), which arrives with version 3', () => {
    assert.match(typeError('"abc".reverse()'), /no matching overload/);
  });
});

describe('the Kubernetes quantity library', () => {
  it('compares quantities by value, across suffixes', () => {
    assertAll([
      ['quantity("1") == quantity("1000m")', true],
      ['quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")', true],
      ['quantity("200M") == quantity("0.3G")', false],
      ['quantity("200M") != quantity("0.3G")', true],
      ['quantity("1") in [quantity("2"), quantity("1000m")]', true],
      ['quantity("50M").isLessThan(quantity("50Mi"))', true],
      ['quantity("100M").isLessThan(quantity("50M"))', false],
      ['quantity("50Mi").isGreaterThan(quantity("50M"))', true],
      ['quantity("200M").compareTo(quantity("0.2G"))', 0n],
      ['quantity("50M").compareTo(quantity("50Mi"))', -1n],
      ['quantity("50Mi").compareTo(quantity("50M"))', 1n],
    ]);
  });

  it('checks every quantity of a list against a bound, as a CRD rule would', () => {
    const rule = 'self.all(x, quantity(x).isLessThan(quantity("2Gi")))';
    assert.equal(run(rule, ['1Gi', '512Mi'], 'list<string>'), true);
    assert.equal(run(rule, ['1Gi', '3Gi'], 'list<string>'), false);
  });

  it('isQuantity accepts exactly what quantity() parses', () => {
    assertAll([
      ['isQuantity("20")', true],
      ['isQuantity("20M")', true],
      ['isQuantity("20Mi")', true],
      ['isQuantity("1.3G")', true],
      ['isQuantity("20Mo")', false],
      ['isQuantity("10Mm")', false],
      ['isQuantity("1,3G")', false],
      ['isQuantity(" 1")', false],
    ]);
  });

  it('fails to parse with resource.ParseQuantity’s messages', () => {
    assert.equal(runtimeError('quantity("10Mo")'), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    assert.equal(runtimeError('quantity("10Mm")'), "unable to parse quantity's suffix");
  });

  it('adds and subtracts quantities and ints', () => {
    assertAll([
      ['quantity("50k").add(quantity("20")) == quantity("50.02k")', true],
      ['quantity("50k").add(20).isLessThan(quantity("50020"))', false],
      ['quantity("50k").sub(quantity("20")) == quantity("49.98k")', true],
      ['quantity("50k").sub(20) == quantity("49980")', true],
      ['quantity("50k").add(20).sub(quantity("100k")).asInteger()', -49980n],
      ['quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger()', 20n],
    ]);
  });

  it('answers isInteger and asInteger from Kubernetes’ int64 representation of the quantity', () => {
    assertAll([
      ['quantity("50k").asInteger()', 50000n],
      ['quantity("0.5k").asInteger()', 500n],
      ['quantity("50").isInteger()', true],
      ['quantity("50000000G").isInteger()', true],
      ['quantity("9999999999999999999999999999999999999G").isInteger()', false],
      // Kubernetes keeps these as 1000×10⁻³ and as a decimal, so neither converts.
      ['quantity("1000m").isInteger()', false],
      ['quantity("1.5Gi").isInteger()', false],
      ['quantity("1000m").add(quantity("1")).isInteger()', false],
    ]);
    assert.equal(runtimeError('quantity("9999999999999999999999999999999999999G").asInteger()'), 'cannot convert value to integer');
  });

  it('converts to an approximate double and tells the sign', () => {
    assertAll([
      ['quantity("50.703k").asApproximateFloat()', 50703],
      ['quantity("50k").sub(20000).asApproximateFloat() == 30000.0', true],
      ['quantity("1.5Gi").asApproximateFloat()', 1610612736],
      ['sign(quantity("-5"))', -1n],
      ['quantity("0").sign()', 0n],
      ['quantity("3m").sign()', 1n],
    ]);
  });

  it('type-checks arguments: a quantity is parsed from a string only', () => {
    assert.match(typeError('quantity(1)'), /no matching overload for 'quantity\(int\)'/);
    assert.match(typeError('isQuantity([1, 2, 3])'), /no matching overload/);
    assert.match(typeError('quantity("1").add("1")'), /no matching overload/);
  });
});

describe('the Kubernetes URL library', () => {
  it('returns the parts of a URL as Go’s net/url does', () => {
    assertAll([
      ['url("https://user:pass@example.com:80/path?query=val#fragment").getHost()', 'example.com:80'],
      ['url("/path").getScheme()', ''],
      ['url("HTTPS://example.com/").getScheme()', 'https'],
      ['url("https://example.com/").getHost()', 'example.com'],
      ['url("https://[::1]:80/").getHost()', '[::1]:80'],
      ['url("https://[::1]/").getHost()', '[::1]'],
      ['url("/path").getHost()', ''],
      ['url("https://example.com:80/").getHostname()', 'example.com'],
      ['url("https://127.0.0.1:80/").getHostname()', '127.0.0.1'],
      ['url("https://[::1]:80/").getHostname()', '::1'],
      ['url("https://example.com:80/").getPort()', '80'],
      ['url("https://example.com/").getPort()', ''],
      ['url("https://example.com/path").getEscapedPath()', '/path'],
      ['url("https://example.com/path with spaces/").getEscapedPath()', '/path%20with%20spaces/'],
      ['url("https://example.com/%7Efoo").getEscapedPath()', '/%7Efoo'],
      ['url("https://example.com").getEscapedPath()', ''],
      ['url("https://example.com/path#frag").getEscapedPath()', '/path'],
    ]);
  });

  it('getQuery returns every value of each key, unescaped, and no fragment', () => {
    assertAll([
      ['url("https://example.com/path?k1=a&k2=b&k2=c").getQuery() == {"k1": ["a"], "k2": ["b", "c"]}', true],
      ['url("https://example.com/path?key with spaces=value+with%20spaces").getQuery() == {"key with spaces": ["value with spaces"]}', true],
      ['url("https://example.com/?a=1#frag").getQuery() == {"a": ["1"]}', true],
      ['url("https://example.com/path?").getQuery().size()', 0n],
    ]);
  });

  it('accepts only absolute URIs and absolute paths', () => {
    assertAll([
      ['isURL("https://user:pass@example.com:80/path?query=val#fragment")', true],
      ['isURL("/absolute-path")', true],
      ['isURL("https://a:b:c/")', false],
      ['isURL("../relative-path")', false],
      ['isURL("https://exa mple.com/")', false],
    ]);
    assert.equal(runtimeError('url("https://a:b:c/")'), 'URL parse error during conversion from string: parse "https://a:b:c/": invalid port ":c" after host');
    assert.equal(runtimeError('url("../relative-path")'), 'URL parse error during conversion from string: parse "../relative-path": invalid URI for request');
    assert.equal(runtimeError('url("https://example.com/%zz")'), 'URL parse error during conversion from string: parse "https://example.com/%zz": invalid URL escape "%zz"');
  });
});

describe('the Kubernetes IP library', () => {
  it('parses IPv4 and IPv6 addresses and tells the family', () => {
    assertAll([
      ['ip("127.0.0.1").family()', 4n],
      ['ip("::1").family() == 6', true],
      ['ip("::1") == ip("0:0:0:0:0:0:0:1")', true],
      ['string(ip("2001:DB8:0:0:0:0:0:1"))', '2001:db8::1'],
      ['string(ip("2001:db8:0:0:1:0:0:1"))', '2001:db8::1:0:0:1'],
      ['isIP("127.0.0.1")', true],
      ['isIP("::1")', true],
      ['isIP("127.0.0.256")', false],
      ['isIP(":::1")', false],
      ['isIP("127.0.0.01")', false],
      ['isIP("fe80::1%eth0")', false],
      ['isIP("::ffff:1.2.3.4")', false],
    ]);
  });

  it('rejects what Kubernetes rejects, with its messages', () => {
    assert.equal(runtimeError('ip("127.0.0.256")'), 'IP Address "127.0.0.256" parse error during conversion from string: ParseAddr("127.0.0.256"): IPv4 field has value >255');
    assert.equal(runtimeError('ip(":::1")'), 'IP Address ":::1" parse error during conversion from string: ParseAddr(":::1"): each colon-separated field must have at least one digit (at ":1")');
    assert.equal(runtimeError('ip("fe80::1%eth0")'), 'IP address "fe80::1%eth0" with zone value is not allowed');
    assert.equal(runtimeError('ip("::ffff:1.2.3.4")'), 'IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed');
  });

  it('ip.isCanonical compares a string with the canonical form of its address', () => {
    assertAll([
      ['ip.isCanonical("127.0.0.1")', true],
      ['ip.isCanonical("2001:db8::abcd")', true],
      ['ip.isCanonical("2001:DB8::ABCD")', false],
      ['ip.isCanonical("2001:db8::0:0:0:abcd")', false],
    ]);
  });

  it('classifies addresses as Go’s netip does', () => {
    assertAll([
      ['ip("0.0.0.0").isUnspecified()', true],
      ['ip("127.0.0.1").isUnspecified()', false],
      ['ip("::").isUnspecified()', true],
      ['ip("127.0.0.1").isLoopback()', true],
      ['ip("192.168.0.1").isLoopback()', false],
      ['ip("::1").isLoopback()', true],
      ['ip("2001:db8::abcd").isLoopback()', false],
      ['ip("224.0.0.1").isLinkLocalMulticast()', true],
      ['ip("224.0.1.1").isLinkLocalMulticast()', false],
      ['ip("ff02::1").isLinkLocalMulticast()', true],
      ['ip("fd00::1").isLinkLocalMulticast()', false],
      ['ip("169.254.169.254").isLinkLocalUnicast()', true],
      ['ip("192.168.0.1").isLinkLocalUnicast()', false],
      ['ip("fe80::1").isLinkLocalUnicast()', true],
      ['ip("fd80::1").isLinkLocalUnicast()', false],
      ['ip("192.168.0.1").isGlobalUnicast()', true],
      ['ip("255.255.255.255").isGlobalUnicast()', false],
      ['ip("2001:db8::abcd").isGlobalUnicast()', true],
      ['ip("ff00::1").isGlobalUnicast()', false],
    ]);
  });
});

describe('the Kubernetes CIDR library', () => {
  it('parses a network and answers containment', () => {
    assertAll([
      ['cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))', true],
      ['cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))', false],
      ['cidr("192.168.0.0/24").containsIP("192.168.0.1")', true],
      ['cidr("0.0.0.0/0").containsIP(ip("::1"))', false],
      ['cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/25"))', true],
      ['cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/23"))', false],
      ['cidr("192.168.0.0/16").containsCIDR("192.168.10.0/24")', true],
      ['cidr("192.168.1.0/24").containsCIDR("192.168.2.0/24")', false],
      ['cidr("2001:db8::/32").containsIP("2001:db8::1")', true],
      ['cidr("2001:db8::/32").containsIP("2001:dc8::1")', false],
      ['cidr("2001:db8::/32").containsCIDR("2001:db8::/33")', true],
      ['isCIDR("192.168.0.0/16")', true],
      ['isCIDR("::1/128")', true],
      ['isCIDR("192.168.0.0/33")', false],
      ['isCIDR("::1/129")', false],
      ['isCIDR("192.168.0.0/016")', false],
    ]);
  });

  it('returns the address, the masked network and the prefix length', () => {
    assertAll([
      ['cidr("192.168.0.1/24").ip() == ip("192.168.0.1")', true],
      ['cidr("::1/128").ip().family()', 6n],
      ['string(cidr("192.168.0.1/24").masked())', '192.168.0.0/24'],
      ['string(cidr("2001:db8:1::/32").masked())', '2001:db8::/32'],
      ['cidr("192.168.0.0/24") == cidr("192.168.0.0/24").masked()', true],
      ['cidr("192.168.0.1/24") == cidr("192.168.0.1/24").masked()', false],
      ['cidr("192.168.0.0/16").prefixLength()', 16n],
      ['cidr("::1/128").prefixLength()', 128n],
    ]);
  });

  it('rejects bad networks with Kubernetes’ doubled message', () => {
    const prefix = 'network address parse error during conversion from string: ';
    assert.equal(runtimeError('cidr("192.168.0.0/")'), `${prefix}${prefix}netip.ParsePrefix("192.168.0.0/"): bad bits after slash: ""`);
    assert.equal(runtimeError('cidr("192.168.0.0/33")'), `${prefix}${prefix}netip.ParsePrefix("192.168.0.0/33"): prefix length out of range`);
    assert.equal(runtimeError('cidr("::ffff:1.2.3.4/120")'), `${prefix}IPv4-mapped IPv6 address "::ffff:1.2.3.4/120" is not allowed`);
    assert.equal(runtimeError('cidr("10.0.0.0/8").containsIP("10.0.0.256")'), 'no such overload');
    assert.match(typeError('cidr(192168)'), /no matching overload for 'cidr\(int\)'/);
  });
});

describe('the Kubernetes format library', () => {
  it('validate returns no value for a valid string and Kubernetes’ messages otherwise', () => {
    assertAll([
      ['format.dns1123Label().validate("my-label-name").hasValue()', false],
      ['format.dns1123Subdomain().validate("apiextensions.k8s.io").hasValue()', false],
      ['format.dns1035Label().validate("1abc").hasValue()', true],
      ['format.qualifiedName().validate("apiextensions.k8s.io/v1beta1").hasValue()', false],
      ['format.dns1123LabelPrefix().validate("my-label-prefix-").hasValue()', false],
      ['format.dns1123Label().validate("my-label-prefix-").hasValue()', true],
      ['format.labelValue().validate("").hasValue()', false],
      ['format.uri().validate("http://example.com").hasValue()', false],
      ['format.uri().validate("../x").value()', ['parse "../x": invalid URI for request']],
      ['format.uuid().validate("123e4567-e89b-12d3-a456-426614174000").hasValue()', false],
      ['format.uuid().validate("123e4567").value()', ['does not match the UUID format']],
      ['format.byte().validate("aGVsbG8=").hasValue()', false],
      ['format.byte().validate("aGVsbG8").value()', ['invalid base64']],
      ['format.date().validate("2024-02-29").hasValue()', false],
      ['format.date().validate("2023-02-29").value()', ['invalid date']],
      ['format.datetime().validate("2021-01-01T00:00:00Z").hasValue()', false],
      ['format.datetime().validate("2021-01-01T24:00:00Z").value()', ['invalid datetime']],
    ]);
    assert.deepEqual(run('format.dns1123Label().validate(self).value()', 'Foo', 'string'), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('format.named finds a format by name, or gives no value', () => {
    assertAll([
      ['format.named("dns1123Label").hasValue()', true],
      ['format.named("dns1123label").hasValue()', false],
      ['format.named("labelValue").value().validate("-bad").hasValue()', true],
      ['format.named("uuid").value() == format.uuid()', true],
    ]);
  });

  it('serves as a rule and as a message expression', () => {
    assert.equal(run('!format.dns1123Subdomain().validate(self).hasValue()', 'example.com', 'string'), true);
    assert.equal(run('format.dns1123Label().validate(self).value().join("\\n")', 'a.b', 'string'), 'must not contain dots');
  });
});

describe('the Kubernetes semver library', () => {
  it('parses versions and compares them by semver precedence', () => {
    assertAll([
      ['semver("1.2.3").major()', 1n],
      ['semver("1.2.3").minor()', 2n],
      ['semver("1.2.3").patch()', 3n],
      ['semver("1.2.3").compareTo(semver("1.2.3"))', 0n],
      ['semver("1.2.3").compareTo(semver("2.0.0"))', -1n],
      ['semver("1.2.3").compareTo(semver("0.1.2"))', 1n],
      ['semver("1.0.0-alpha").isLessThan(semver("1.0.0"))', true],
      ['semver("1.0.0-alpha.1").isLessThan(semver("1.0.0-alpha.beta"))', true],
      ['semver("1.0.0-rc.2").isLessThan(semver("1.0.0-rc.10"))', true],
      ['semver("1.10.0").isGreaterThan(semver("1.9.0"))', true],
      ['semver("1.0.0+build.1") == semver("1.0.0+build.2")', true],
      ['isSemver("0.1.0-alpha.1")', true],
      ['isSemver("hello")', false],
      ['isSemver("v1.0")', false],
      ['isSemver("v1.0", true)', true],
      ['semver("01.01.01", true) == semver("1.1.1")', true],
      ['semver("1.0", true).patch()', 0n],
    ]);
  });

  it('reports what blang/semver rejects, with its messages', () => {
    assert.equal(runtimeError('semver("1.0")'), 'No Major.Minor.Patch elements found');
    assert.equal(runtimeError('semver("01.0.0")'), 'Major number must not contain leading zeroes "01"');
    assert.equal(runtimeError('semver("1.x.0")'), 'Invalid character(s) found in minor number "x"');
    assert.equal(runtimeError('semver("1.0.0-01")'), 'Numeric PreRelease version must not contain leading zeroes "01"');
    assert.equal(runtimeError('semver("1.0-rc", true)'), 'short version cannot contain PreRelease/Build meta data');
  });
});

describe('gaps in cel-js’s standard library', () => {
  it('orders bytes lexicographically', () => {
    assertAll([
      ['b"a" < b"b"', true],
      ['b"ab" > b"a"', true],
      ['b"a" >= b"ab"', false],
      ['b"a" <= b"a"', true],
    ]);
  });
});
