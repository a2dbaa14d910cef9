// The endpoints controller: core/v1 Endpoints of Services with selectors.
export { EndpointsController, type EndpointsControllerOptions } from './controller.js';
export { desiredSubsets, packSubsets, type EndpointAddress, type EndpointPort, type EndpointSubset } from './subsets.js';
