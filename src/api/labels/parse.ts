// The label selector string syntax kubectl sends (`-l 'app=web,tier!=db,env in (a,b),!legacy'`),
// parsed by a port of apimachinery's lexer and recursive-descent parser so that
// bad input fails with exactly Kubernetes' messages.

import { BadRequestError, formatFieldError } from '../errors.js';
import { isQualifiedName } from '../validation/identifiers.js';
import { aggregateMessage, binaryOperators, Requirement, requirementErrors, Selector, type Operator } from './selector.js';

enum Token {
  Error,
  EndOfString,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const literalTokens: Record<string, Token> = {
  ')': Token.ClosedPar,
  ',': Token.Comma,
  '!': Token.DoesNotExist,
  '==': Token.DoubleEquals,
  '=': Token.Equals,
  '>': Token.GreaterThan,
  in: Token.In,
  '<': Token.LessThan,
  '!=': Token.NotEquals,
  notin: Token.NotIn,
  '(': Token.OpenPar,
};

function tokenFor(literal: string): Token | undefined {
  return Object.prototype.hasOwnProperty.call(literalTokens, literal) ? literalTokens[literal] : undefined;
}

interface ScannedItem {
  tok: Token;
  literal: string;
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecialSymbol(ch: string): boolean {
  return ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
}

/** An empty string plays the role of Go's NUL "end of input" byte. */
class Lexer {
  private pos = 0;
  constructor(private readonly s: string) {}

  private read(): string {
    if (this.pos < this.s.length) return this.s[this.pos++] as string;
    return '';
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdentifierOrKeyword(): ScannedItem {
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === '') break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    return { tok: tokenFor(buffer) ?? Token.Identifier, literal: buffer };
  }

  private scanSpecialSymbol(): ScannedItem {
    let last: ScannedItem | undefined;
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === '') break;
      if (!isSpecialSymbol(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const tok = tokenFor(buffer);
      if (tok !== undefined) {
        last = { tok, literal: buffer };
      } else if (last) {
        this.unread();
        break;
      }
    }
    return last ?? { tok: Token.Error, literal: `error expected: keyword found '${buffer}'` };
  }

  lex(): ScannedItem {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === '') return { tok: Token.EndOfString, literal: '' };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdentifierOrKeyword();
  }
}

class ParseError extends Error {}

/** In a value position the keywords "in" and "notin" are ordinary identifiers. */
enum Context {
  KeyAndOperator,
  Values,
}

class Parser {
  private readonly items: ScannedItem[] = [];
  private position = 0;

  constructor(input: string) {
    const lexer = new Lexer(input);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item.tok === Token.EndOfString) break;
    }
  }

  private adjust(item: ScannedItem, context: Context): [Token, string] {
    if (context === Context.Values && (item.tok === Token.In || item.tok === Token.NotIn)) return [Token.Identifier, item.literal];
    return [item.tok, item.literal];
  }

  private lookahead(context: Context): [Token, string] {
    return this.adjust(this.items[this.position] as ScannedItem, context);
  }

  private consume(context: Context): [Token, string] {
    this.position++;
    return this.adjust(this.items[this.position - 1] as ScannedItem, context);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const [tok, lit] = this.lookahead(Context.Values);
      switch (tok) {
        case Token.Identifier:
        case Token.DoesNotExist: {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
            throw e;
          }
          requirements.push(r);
          const [t, l] = this.consume(Context.Values);
          if (t === Token.EndOfString) return requirements;
          if (t === Token.Comma) {
            const [t2, l2] = this.lookahead(Context.Values);
            if (t2 !== Token.Identifier && t2 !== Token.DoesNotExist) throw new ParseError(`found '${l2}', expected: identifier after ','`);
            break;
          }
          throw new ParseError(`found '${l}', expected: ',' or 'end of string'`);
        }
        case Token.EndOfString:
          return requirements;
        default:
          throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const [key, inferred] = this.parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return checkedRequirement(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return checkedRequirement(key, operator, [...values].sort());
  }

  private parseKeyAndInferOperator(): [string, Operator | undefined] {
    let operator: Operator | undefined;
    let [tok, literal] = this.consume(Context.Values);
    if (tok === Token.DoesNotExist) {
      operator = '!';
      [tok, literal] = this.consume(Context.Values);
    }
    if (tok !== Token.Identifier) throw new ParseError(`found '${literal}', expected: identifier`);
    const keyErrs = isQualifiedName(literal);
    if (keyErrs.length > 0) {
      // The parser validates with a nil field path, which Go prints as "<nil>".
      throw new ParseError(formatFieldError({ type: 'FieldValueInvalid', field: '<nil>', value: literal, detail: keyErrs.join('; ') }));
    }
    const [next] = this.lookahead(Context.Values);
    if ((next === Token.EndOfString || next === Token.Comma) && operator !== '!') operator = 'exists';
    return [literal, operator];
  }

  private parseOperator(): Operator {
    const [tok, lit] = this.consume(Context.KeyAndOperator);
    switch (tok) {
      case Token.In:
        return 'in';
      case Token.Equals:
        return '=';
      case Token.DoubleEquals:
        return '==';
      case Token.GreaterThan:
        return 'gt';
      case Token.LessThan:
        return 'lt';
      case Token.NotIn:
        return 'notin';
      case Token.NotEquals:
        return '!=';
      default:
        throw new ParseError(`found '${lit}', expected: ${binaryOperators.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    const [tok, lit] = this.consume(Context.Values);
    if (tok !== Token.OpenPar) throw new ParseError(`found '${lit}' expected: '('`);
    const [next, nextLit] = this.lookahead(Context.Values);
    switch (next) {
      case Token.Identifier:
      case Token.Comma: {
        const values = this.parseIdentifiersList();
        const [closing] = this.consume(Context.Values);
        if (closing !== Token.ClosedPar) throw new ParseError(`found '${nextLit}', expected: ')'`);
        return values;
      }
      case Token.ClosedPar:
        this.consume(Context.Values);
        return new Set(['']);
      default:
        throw new ParseError(`found '${nextLit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const [tok, lit] = this.consume(Context.Values);
      if (tok === Token.Identifier) {
        values.add(lit);
        const [next, nextLit] = this.lookahead(Context.Values);
        if (next === Token.Comma) continue;
        if (next === Token.ClosedPar) return values;
        throw new ParseError(`found '${nextLit}', expected: ',' or ')'`);
      }
      if (tok === Token.Comma) {
        if (values.size === 0) values.add('');
        const [next] = this.lookahead(Context.Values);
        if (next === Token.ClosedPar) {
          values.add('');
          return values;
        }
        if (next === Token.Comma) {
          this.consume(Context.Values);
          values.add('');
        }
        continue;
      }
      throw new ParseError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const [next] = this.lookahead(Context.Values);
    if (next === Token.EndOfString || next === Token.Comma) return new Set(['']);
    const [tok, lit] = this.consume(Context.Values);
    if (tok === Token.Identifier) return new Set([lit]);
    throw new ParseError(`found '${lit}', expected: identifier`);
  }
}

function checkedRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errs = requirementErrors(key, operator, values);
  if (errs.length > 0) throw new ParseError(aggregateMessage(errs.map(formatFieldError)));
  return new Requirement(key, operator, values);
}

/** The message labels.Parse returns for `input`, or undefined when it parses. */
export function labelSelectorParseError(input: string): string | undefined {
  try {
    new Parser(input).parse();
    return undefined;
  } catch (e) {
    if (e instanceof ParseError) return e.message;
    throw e;
  }
}

/** labels.Parse. Bad input is a 400 BadRequest carrying Kubernetes' parser message. */
export function parseLabelSelector(input: string): Selector {
  try {
    return new Selector(new Parser(input).parse());
  } catch (e) {
    if (e instanceof ParseError) throw new BadRequestError(e.message);
    throw e;
  }
}
