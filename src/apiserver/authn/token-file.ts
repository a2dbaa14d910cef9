// Static bearer tokens from a CSV file, as kube-apiserver's --token-auth-file:
// `token,user,uid[,"group1,group2"]` a record. The rules are those of
// Kubernetes' tokenfile authenticator: at least three columns, an empty token
// is skipped with a warning, a token given twice is a warning and the later
// record wins, the fourth column is split on commas as it stands (no trimming).
import { readFileSync } from 'node:fs';
import type { User } from './user.js';
import { CsvParseError, readCsvRecords } from './csv-records.js';

export interface TokenFile {
  tokens: Map<string, User>;
  /** What a user should fix but that does not stop the server (duplicate or empty tokens). */
  warnings: string[];
}

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** The tokens of a token file's text; `path` only names the file in messages. */
export function parseTokenFile(text: string, path: string): TokenFile {
  let records;
  try {
    records = readCsvRecords(text);
  } catch (err) {
    if (err instanceof CsvParseError) throw new TokenFileError(`token file ${path}: ${err.message} (a field with quotes in it is quoted whole, its quotes doubled: "a ""b"" c")`, { cause: err });
    throw err;
  }
  const tokens = new Map<string, User>();
  const lineOf = new Map<string, number>();
  const warnings: string[] = [];
  for (const { fields, line } of records) {
    if (fields.length < 3) {
      throw new TokenFileError(`token file ${path}, line ${line}: must have at least 3 columns (token, user name, user uid), found ${fields.length}`);
    }
    const [token, name, uid, groups] = fields as [string, string, string, string | undefined];
    if (token === '') {
      warnings.push(`token file ${path}, line ${line}: the token is empty; the line is ignored`);
      continue;
    }
    const earlier = lineOf.get(token);
    if (earlier !== undefined) warnings.push(`token file ${path}, line ${line}: duplicate token (also on line ${earlier}); the later line wins`);
    lineOf.set(token, line);
    tokens.set(token, { name, uid, groups: groups === undefined ? [] : groups.split(',') });
  }
  return { tokens, warnings };
}

/** Reads and parses a token file; a file that cannot be read is a TokenFileError saying which and why. */
export function loadTokenFile(path: string): TokenFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new TokenFileError(`cannot read the token file ${path} (${why}): give a readable CSV file of token,user,uid[,"group1,group2"] lines to --token-auth-file`, { cause: err });
  }
  return parseTokenFile(text, path);
}
