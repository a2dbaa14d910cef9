// Image references normalized the way containerd (and so the kubelet's CRI) does:
// "busybox" → "docker.io/library/busybox:latest", "index.docker.io/x/y" → "docker.io/x/y:latest".

export interface ParsedReference {
  /** "docker.io" */
  domain: string;
  /** "library/busybox" */
  path: string;
  /** "docker.io/library/busybox" */
  repository: string;
  tag?: string;
  /** "sha256:<hex>" */
  digest?: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^sha256:[a-f0-9]{64}$/;
const domainRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export class InvalidReferenceError extends Error {
  constructor(ref: string, why: string) {
    super(`invalid image reference ${JSON.stringify(ref)}: ${why}`);
    this.name = 'InvalidReferenceError';
  }
}

export function parseReference(ref: string): ParsedReference {
  if (ref === '' || ref.length > 1024) throw new InvalidReferenceError(ref, 'empty or too long');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw new InvalidReferenceError(ref, 'digest must be sha256:<64 hex>');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) throw new InvalidReferenceError(ref, `bad tag ${JSON.stringify(tag)}`);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let domain = hasDomain ? first : 'docker.io';
  let path = hasDomain ? rest.slice(slash + 1) : rest;
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!domainRe.test(domain)) throw new InvalidReferenceError(ref, `bad registry host ${JSON.stringify(domain)}`);
  for (const c of path.split('/')) {
    if (!pathComponent.test(c)) throw new InvalidReferenceError(ref, c !== c.toLowerCase() ? 'repository name must be lowercase' : `bad path component ${JSON.stringify(c)}`);
  }
  if (!tag && !digest) tag = 'latest';
  return { domain, path, repository: `${domain}/${path}`, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** "busybox" → "docker.io/library/busybox:latest"; keeps "@sha256:..." and does not add :latest to a digest reference. */
export function normalizeReference(ref: string): string {
  const p = parseReference(ref);
  return `${p.repository}${p.tag ? `:${p.tag}` : ''}${p.digest ? `@${p.digest}` : ''}`;
}

/** True for "sha256:<hex>" or a bare hex id prefix of at least 12 characters. */
export function isDigestLike(ref: string): boolean {
  return digestRe.test(ref) || /^(?:sha256:)?[a-f0-9]{12,64}$/.test(ref);
}
