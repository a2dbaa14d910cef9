export { broadcast, contains, gateway, intToIp, ipToInt, parseCidr, podRange, type Cidr } from './cidr.js';
export { HostLocalIpam, IpamExhaustedError } from './ipam.js';
export { connectInNetns, connectLoopback } from './netns-connect.js';
export { desiredRoutes, namiRouteProtocol, RouteSync, type PodRoute } from './routes.js';
export { defaultBridge, hostVethName, NetworkSetupError, PodNetwork, type PodAttachment, type PodNetworkOptions } from './pod-network.js';
