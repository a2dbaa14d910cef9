// Go's encoding/json syntax check (its scanner), for the words of its errors:
// kube-apiserver passes them on ("invalid character 'o' in literal null
// (expecting 'u')", "unexpected end of JSON input"). JavaScript's parser
// words them otherwise, and quotes the text around the error, which in a
// Secret is the secret itself.

type Step = (c: number) => void;

class SyntaxFailure extends Error {}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A byte as Go's scanner quotes it (quoteChar): the byte read as the rune of the same number, in strconv.Quote's escapes, in single quotes. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const named: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x5c: '\\\\' };
  if (named[c] !== undefined) return `'${named[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  // Not printable to strconv: the C1 controls, no-break space and soft hyphen.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u00${c.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

const enum Parse {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

/** Checks JSON text as Go's json.Unmarshal would before decoding: undefined when it is valid, else Go's error message. */
export function goJsonSyntaxError(input: string | Uint8Array): string | undefined {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const stack: Parse[] = [];
  let step: Step;
  let endTop = false;

  const fail = (c: number, context: string): never => {
    throw new SyntaxFailure(`invalid character ${quoteChar(c)} ${context}`);
  };

  const beginValue: Step = (c) => {
    if (isSpace(c)) return;
    switch (c) {
      case 0x7b: // {
        stack.push(Parse.ObjectKey);
        step = beginStringOrEmpty;
        return;
      case 0x5b: // [
        stack.push(Parse.ArrayValue);
        step = beginValueOrEmpty;
        return;
      case 0x22:
        step = inString;
        return;
      case 0x2d: // -
        step = neg;
        return;
      case 0x30:
        step = zero;
        return;
      case 0x74:
        step = literal('true', 1);
        return;
      case 0x66:
        step = literal('false', 1);
        return;
      case 0x6e:
        step = literal('null', 1);
        return;
    }
    if (c >= 0x31 && c <= 0x39) {
      step = one;
      return;
    }
    fail(c, 'looking for beginning of value');
  };

  const beginValueOrEmpty: Step = (c) => {
    if (isSpace(c)) return;
    if (c === 0x5d) return endValue(c);
    beginValue(c);
  };

  const beginStringOrEmpty: Step = (c) => {
    if (isSpace(c)) return;
    if (c === 0x7d) {
      stack[stack.length - 1] = Parse.ObjectValue;
      return endValue(c);
    }
    beginString(c);
  };

  const beginString: Step = (c) => {
    if (isSpace(c)) return;
    if (c === 0x22) {
      step = inString;
      return;
    }
    fail(c, 'looking for beginning of object key string');
  };

  const endTopStep: Step = (c) => {
    if (!isSpace(c)) fail(c, 'after top-level value');
  };

  const endValue: Step = (c) => {
    if (stack.length === 0) {
      step = endTopStep;
      endTop = true;
      return endTopStep(c);
    }
    if (isSpace(c)) {
      step = endValue;
      return;
    }
    const top = stack[stack.length - 1]!;
    switch (top) {
      case Parse.ObjectKey:
        if (c === 0x3a) {
          stack[stack.length - 1] = Parse.ObjectValue;
          step = beginValue;
          return;
        }
        return fail(c, 'after object key');
      case Parse.ObjectValue:
        if (c === 0x2c) {
          stack[stack.length - 1] = Parse.ObjectKey;
          step = beginString;
          return;
        }
        if (c === 0x7d) {
          stack.pop();
          step = endValue;
          return;
        }
        return fail(c, 'after object key:value pair');
      case Parse.ArrayValue:
        if (c === 0x2c) {
          step = beginValue;
          return;
        }
        if (c === 0x5d) {
          stack.pop();
          step = endValue;
          return;
        }
        return fail(c, 'after array element');
    }
  };

  const inString: Step = (c) => {
    if (c === 0x22) {
      step = endValue;
      return;
    }
    if (c === 0x5c) {
      step = inStringEsc;
      return;
    }
    if (c < 0x20) fail(c, 'in string literal');
  };

  const inStringEsc: Step = (c) => {
    if ([0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(c)) {
      step = inString;
      return;
    }
    if (c === 0x75) {
      step = hexEscape(4);
      return;
    }
    fail(c, 'in string escape code');
  };

  const hexEscape =
    (left: number): Step =>
    (c) => {
      if (!isHex(c)) fail(c, 'in \\u hexadecimal character escape');
      step = left === 1 ? inString : hexEscape(left - 1);
    };

  const neg: Step = (c) => {
    if (c === 0x30) {
      step = zero;
      return;
    }
    if (c >= 0x31 && c <= 0x39) {
      step = one;
      return;
    }
    fail(c, 'in numeric literal');
  };

  const one: Step = (c) => {
    if (isDigit(c)) return;
    zero(c);
  };

  const zero: Step = (c) => {
    if (c === 0x2e) {
      step = dot;
      return;
    }
    if (c === 0x65 || c === 0x45) {
      step = exponent;
      return;
    }
    endValue(c);
  };

  const dot: Step = (c) => {
    if (isDigit(c)) {
      step = dotDigits;
      return;
    }
    fail(c, 'after decimal point in numeric literal');
  };

  const dotDigits: Step = (c) => {
    if (isDigit(c)) return;
    if (c === 0x65 || c === 0x45) {
      step = exponent;
      return;
    }
    endValue(c);
  };

  const exponent: Step = (c) => {
    if (c === 0x2b || c === 0x2d) {
      step = exponentSign;
      return;
    }
    exponentSign(c);
  };

  const exponentSign: Step = (c) => {
    if (isDigit(c)) {
      step = exponentDigits;
      return;
    }
    fail(c, 'in exponent of numeric literal');
  };

  const exponentDigits: Step = (c) => {
    if (isDigit(c)) return;
    endValue(c);
  };

  const literal =
    (word: string, at: number): Step =>
    (c) => {
      const want = word.charCodeAt(at);
      if (c !== want) fail(c, `in literal ${word} (expecting ${quoteChar(want)})`);
      step = at + 1 === word.length ? endValue : literal(word, at + 1);
    };

  step = beginValue;
  try {
    for (const c of bytes) step(c);
    // The end of input, as the scanner's eof: a value must have ended.
    if (!endTop) step(0x20);
    if (!endTop) return 'unexpected end of JSON input';
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxFailure) return err.message;
    throw err;
  }
}
