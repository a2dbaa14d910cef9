// The service account controller (a `default` ServiceAccount in every active namespace) and the tokens controller (legacy token Secrets filled).
export { ServiceAccountController, type ServiceAccountControllerOptions } from './controller.js';
export { TokensController, type TokensControllerOptions } from './tokens-controller.js';
