// The endpointslice controller: discovery.k8s.io/v1 EndpointSlices of Services with selectors.
export { EndpointSliceController, type EndpointSliceControllerOptions } from './controller.js';
export { desiredEndpointGroups, planSlices, maxEndpointsPerSlice, managedByLabel, serviceNameLabel, controllerName } from './slices.js';
