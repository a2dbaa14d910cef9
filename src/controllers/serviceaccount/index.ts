// The service account controller: a `default` ServiceAccount in every active namespace.
export { ServiceAccountController, type ServiceAccountControllerOptions } from './controller.js';
