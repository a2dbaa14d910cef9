// Patterns in CRD schemas and validation rules are Go regular expressions
// (RE2): Nami runs them as JavaScript ones, translated.

/**
 * A Go regular expression (RE2, as Kubernetes checks a pattern) as a
 * JavaScript one: flag groups such as (?i) at the start (or after its
 * anchors, as in ^(?i)...) become flags, named groups (?P<name>...) and the
 * text anchors \A and \z their JavaScript forms, POSIX classes such as
 * [:alpha:] their ranges. It matches by code point, as Go matches runes,
 * unless the pattern needs JavaScript's older syntax (an escape such as \_
 * the Unicode mode refuses). Other RE2 syntax is passed on as it is, and
 * may fail to compile: the CRD is then refused.
 */
export function goRegExp(pattern: string): RegExp {
  let source = pattern;
  let flags = '';
  const leading = /^((?:\^|\\A)*)\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    flags = [...new Set(leading[2]!.replace('U', ''))].join('');
    source = leading[1]! + source.slice(leading[0].length);
  }
  source = source
    .replace(/\(\?P</g, '(?<')
    .replace(/(^|[^\\])\\A/g, '$1(?<![\\s\\S])')
    .replace(/(^|[^\\])\\z/g, '$1(?![\\s\\S])')
    .replace(/\[:(\^?)([a-z]+):\]/g, (whole, negated: string, name: string) => {
      const range = posixClasses[name];
      return range === undefined || negated ? whole : range;
    });
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    return new RegExp(source, flags);
  }
}
goRegExp.code = 'goRegExp';

const posixClasses: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};
