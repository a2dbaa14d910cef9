// Authentication: who a request comes from (client certificates, bearer tokens from a token file).
export { authenticateRequest, bearerToken, type Authenticators } from './authenticate.js';
export { loadTokenFile, parseTokenFile, TokenFileError, type TokenFile } from './token-file.js';
export { allAuthenticated, withAuthenticatedGroup, type User } from './user.js';
