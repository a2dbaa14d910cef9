// The root CA publisher: a kube-root-ca.crt ConfigMap with the cluster CA in every namespace.
export { RootCaPublisher, rootCaConfigMapName, type RootCaPublisherOptions } from './controller.js';
