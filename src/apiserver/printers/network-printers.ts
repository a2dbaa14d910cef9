// Tables of the networking kinds: Service, Endpoints, EndpointSlice, Ingress,
// IngressClass, NetworkPolicy.
import { goStringOrder } from './go-text.js';
import { formatLabelSelector, formatLabels, type LabelSelector } from './label-format.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, wideColumn, type TablePrinter } from './table.js';

interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

/**
 * Load balancer addresses, sorted and de-duplicated. Kubernetes clips them to
 * 16 characters unless printing wide, and the server always prints wide.
 */
function loadBalancerAddresses(ingress: LoadBalancerIngress[] | undefined): string {
  const addresses = new Set<string>();
  for (const entry of ingress ?? []) {
    if (entry.ip) addresses.add(entry.ip);
    else if (entry.hostname) addresses.add(entry.hostname);
  }
  return [...addresses].sort(goStringOrder).join(',');
}

/** "host:port", bracketing IPv6 addresses as Go's net.JoinHostPort does. */
function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface ServiceJson {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    externalName?: string;
    ports?: { port?: number; nodePort?: number; protocol?: string }[];
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

function serviceExternalIP(svc: ServiceJson): string {
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** PORT(S): "80/TCP", or "80:30080/TCP" when a node port is allocated. */
export function servicePorts(ports: NonNullable<ServiceJson['spec']>['ports']): string {
  const pieces = (ports ?? []).map((p) => {
    const protocol = p.protocol ?? 'TCP';
    return p.nodePort ? `${p.port ?? 0}:${p.nodePort}/${protocol}` : `${p.port ?? 0}/${protocol}`;
  });
  return pieces.length > 0 ? pieces.join(',') : '<none>';
}

export const servicePrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Type', { doc: 'ServiceSpec.type' }),
    column('Cluster-IP', { doc: 'ServiceSpec.clusterIP' }),
    column('External-IP', { doc: 'ServiceSpec.externalIPs' }),
    column('Port(s)', { doc: 'ServiceSpec.ports' }),
    ageColumn,
    wideColumn('Selector', { doc: 'ServiceSpec.selector' }),
  ],
  printRow(object, now) {
    const svc = object as ServiceJson;
    const spec = svc.spec ?? {};
    // clusterIP wins over clusterIPs, as in Kubernetes' v1 to internal conversion.
    const clusterIP = spec.clusterIP || spec.clusterIPs?.[0] || '<none>';
    return {
      cells: [
        nameOf(object),
        spec.type ?? '',
        clusterIP,
        serviceExternalIP(svc),
        servicePorts(spec.ports),
        ageOf(object, now),
        formatLabels(spec.selector),
      ],
    };
  },
};

interface EndpointSubset {
  addresses?: { ip?: string }[];
  ports?: { port?: number }[];
}

/** ENDPOINTS: the first three "ip:port" pairs, then "+ N more...". */
function formatEndpoints(subsets: EndpointSubset[] | undefined): string {
  if (!subsets || subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    if (ports.length === 0) {
      // Headless services may publish addresses without ports.
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(address.ip ?? '');
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(address.ip ?? '', port.port ?? 0));
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

export const endpointsPrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Endpoints', { doc: 'Endpoints.subsets' }), ageColumn],
  printRow(object, now) {
    return { cells: [nameOf(object), formatEndpoints((object as { subsets?: EndpointSubset[] }).subsets), ageOf(object, now)] };
  },
};

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const text = list.join(',');
  if (more) return `${text} + ${count - max} more...`;
  return text === '' ? '<unset>' : text;
}

export const endpointSlicePrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('AddressType', { doc: 'EndpointSlice.addressType' }),
    column('Ports', { doc: 'EndpointSlice.ports' }),
    column('Endpoints', { doc: 'EndpointSlice.endpoints' }),
    ageColumn,
  ],
  printRow(object, now) {
    const slice = object as {
      addressType?: string;
      ports?: { port?: number | null; name?: string | null }[] | null;
      endpoints?: { addresses?: string[] }[] | null;
    };
    const max = 3;
    const ports: string[] = [];
    let portCount = 0;
    for (const port of slice.ports ?? []) {
      if (ports.length < max) {
        ports.push(typeof port.port === 'number' ? String(port.port) : typeof port.name === 'string' ? port.name : '*');
      }
      portCount++;
    }
    const addresses: string[] = [];
    let addressCount = 0;
    for (const endpoint of slice.endpoints ?? []) {
      for (const address of endpoint.addresses ?? []) {
        if (addresses.length < max) addresses.push(address);
        addressCount++;
      }
    }
    return {
      cells: [
        nameOf(object),
        slice.addressType ?? '',
        listWithMore(ports, portCount > max, portCount, max),
        listWithMore(addresses, addressCount > max, addressCount, max),
        ageOf(object, now),
      ],
    };
  },
};

function formatIngressHosts(rules: { host?: string }[] | undefined): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules ?? []) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const text = list.join(',');
  return more ? `${text} + ${(rules ?? []).length - max} more...` : text;
}

export const ingressPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Class', { description: 'The name of the IngressClass resource that should be used for additional configuration' }),
    column('Hosts', { description: 'Hosts that incoming requests are matched against before the ingress rule' }),
    column('Address', { description: 'Address is a list containing ingress points for the load-balancer' }),
    column('Ports', { description: 'Ports of TLS configurations that open' }),
    ageColumn,
  ],
  printRow(object, now) {
    const ing = object as {
      spec?: { ingressClassName?: string | null; rules?: { host?: string }[]; tls?: unknown[] };
      status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
    };
    return {
      cells: [
        nameOf(object),
        typeof ing.spec?.ingressClassName === 'string' ? ing.spec.ingressClassName : '<none>',
        formatIngressHosts(ing.spec?.rules),
        loadBalancerAddresses(ing.status?.loadBalancer?.ingress),
        (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
        ageOf(object, now),
      ],
    };
  },
};

export const ingressClassPrinter: TablePrinter = {
  columnDefinitions: [
    nameColumn,
    column('Controller', { description: 'Controller that is responsible for handling this class' }),
    column('Parameters', { description: 'A reference to a resource with additional parameters' }),
    ageColumn,
  ],
  printRow(object, now) {
    const ic = object as { spec?: { controller?: string; parameters?: { apiGroup?: string | null; kind?: string; name?: string } | null } };
    const params = ic.spec?.parameters;
    let parameters = '<none>';
    if (params) {
      parameters = params.kind ?? '';
      if (typeof params.apiGroup === 'string') parameters += `.${params.apiGroup}`;
      parameters += `/${params.name ?? ''}`;
    }
    return { cells: [nameOf(object), ic.spec?.controller ?? '', parameters, ageOf(object, now)] };
  },
};

export const networkPolicyPrinter: TablePrinter = {
  columnDefinitions: [nameColumn, column('Pod-Selector', { doc: 'NetworkPolicySpec.podSelector' }), ageColumn],
  printRow(object, now) {
    const np = object as { spec?: { podSelector?: LabelSelector } };
    // podSelector is a struct in Kubernetes, so absent means empty, not nil.
    return { cells: [nameOf(object), formatLabelSelector(np.spec?.podSelector ?? {}), ageOf(object, now)] };
  },
};
