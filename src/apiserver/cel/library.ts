// The CEL function libraries a Kubernetes API server (1.27 to 1.33) puts in
// the environment of CRD validation rules, on top of what cel-js provides:
//
//   - Kubernetes' lists, regex, quantity, URL, IP, CIDR, format and semver
//     libraries;
//   - cel-go's ext.Strings as Kubernetes configures it (version 2: charAt,
//     replace, format, strings.quote; cel-js has the rest), ext.Sets and
//     ext.TwoVarComprehensions;
//   - the ordering of bytes, which CEL defines and cel-js lacks.
//
// cel-js already has the standard functions and macros (has, all, exists,
// exists_one, map, filter, cel.bind), optionals, and from the strings
// extension lowerAscii, upperAscii, trim, indexOf, lastIndexOf, substring,
// split and join.

import type { Environment } from '@marcbachmann/cel-js';
import { registerTwoVarComprehensions } from './comprehensions-library.js';
import { registerFormatLibrary } from './format-library.js';
import { registerListsLibrary, registerSetsLibrary } from './lists-library.js';
import { registerNetworkLibraries } from './network-library.js';
import { registerQuantityLibrary } from './quantity-library.js';
import { registerSemverLibrary } from './semver-library.js';
import { registerRegexLibrary, registerStringsLibrary } from './strings-library.js';
import { registerURLLibrary } from './url-library.js';
import { compareValues } from './values.js';

function registerBytesOrdering(env: Environment): void {
  env.registerOperator('bytes < bytes', (a: Uint8Array, b: Uint8Array) => compareValues(a, b) < 0);
  env.registerOperator('bytes <= bytes', (a: Uint8Array, b: Uint8Array) => compareValues(a, b) <= 0);
  env.registerOperator('bytes > bytes', (a: Uint8Array, b: Uint8Array) => compareValues(a, b) > 0);
  env.registerOperator('bytes >= bytes', (a: Uint8Array, b: Uint8Array) => compareValues(a, b) >= 0);
}

/**
 * Registers Kubernetes' CEL libraries on an environment created with
 * `new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: true })`
 * (format.named() and validate() return optionals). Call it before
 * registering variables; it returns the environment for chaining.
 */
export function registerKubernetesLibraries(env: Environment): Environment {
  registerBytesOrdering(env);
  registerListsLibrary(env);
  registerSetsLibrary(env);
  registerTwoVarComprehensions(env);
  registerRegexLibrary(env);
  registerStringsLibrary(env);
  registerQuantityLibrary(env);
  registerURLLibrary(env);
  registerNetworkLibraries(env);
  registerFormatLibrary(env);
  registerSemverLibrary(env);
  return env;
}
