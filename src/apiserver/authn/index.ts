// Authentication: who a request comes from (client certificates, bearer tokens from a token file, service account tokens).
export { authenticateRequest, authenticateToken, bearerToken, type Authenticators } from './authenticate.js';
export { defaultIssuer, ServiceAccountTokens, TokenError, type TokenAuthentication, type TokenBinding, type TokenObjects } from './service-account-tokens.js';
export { signingKeyOf, signingKeyFromPem, type SigningKey } from '../../api/serviceaccount/jwt.js';
export { loadTokenFile, parseTokenFile, TokenFileError, type TokenFile } from './token-file.js';
export { allAuthenticated, withAuthenticatedGroup, type User } from './user.js';
