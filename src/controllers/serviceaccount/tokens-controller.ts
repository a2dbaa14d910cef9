// The tokens controller: a Secret of type kubernetes.io/service-account-token
// that names a ServiceAccount (annotation kubernetes.io/service-account.name)
// gets a token for it, the cluster CA and its namespace, and the account's
// UID in an annotation; a token Secret whose account does not exist (or was
// made again, with another UID) is deleted, as its account's deletion
// deletes it (Kubernetes' pkg/controller/serviceaccount TokensController).
// As since Kubernetes 1.24, no Secret is made for an account unasked.
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { signJwt, signingKeyFromPem, type SigningKey } from '../../api/serviceaccount/jwt.js';
import { legacyTokenClaims, serviceAccountNameAnnotation, serviceAccountTokenSecretType, serviceAccountUidAnnotation } from '../../api/serviceaccount/legacy.js';
import { objectKey, type Informer, type InformerFactory } from '../../client/informer.js';
import { QueueController, type QueueControllerOptions } from '../queue-controller.js';

const serviceAccountsResource = { group: '', version: 'v1', plural: 'serviceaccounts' };
const secretsResource = { group: '', version: 'v1', plural: 'secrets' };

export interface TokensControllerOptions extends QueueControllerOptions {
  /** The private key tokens are signed with (PEM), as the controller manager's --service-account-private-key-file gives it. */
  serviceAccountKeyPem: string;
  /** The cluster CA's certificate (PEM), put in each Secret as ca.crt. */
  rootCaPem?: string;
}

type Secret = KubeObject & { type?: string; data?: Record<string, string> };

const decoded = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');
const encoded = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export class TokensController extends QueueController {
  private readonly serviceAccounts: Informer;
  private readonly secrets: Informer;
  private readonly key: SigningKey;

  constructor(
    factory: InformerFactory,
    private readonly opts: TokensControllerOptions,
  ) {
    super(factory, opts);
    this.key = signingKeyFromPem(opts.serviceAccountKeyPem);
    this.serviceAccounts = this.informer(serviceAccountsResource);
    this.secrets = this.informer(secretsResource, { fieldSelector: `type=${serviceAccountTokenSecretType}` });
    const enqueueSecret = (secret: KubeObject) => this.queue.add(objectKey(secret));
    this.secrets.on({ add: enqueueSecret, update: (_old, secret) => enqueueSecret(secret) });
    // An account made or deleted: its Secrets are looked at again (filled, or deleted with it).
    const enqueueSecretsOf = (sa: KubeObject) => {
      for (const secret of this.secrets.inNamespace(sa.metadata.namespace ?? '')) {
        if (secret.metadata.annotations?.[serviceAccountNameAnnotation] === sa.metadata.name) enqueueSecret(secret);
      }
    };
    this.serviceAccounts.on({ add: enqueueSecretsOf, delete: enqueueSecretsOf });
  }

  async sync(key: string): Promise<void> {
    const secret = this.secrets.get(key) as Secret | undefined;
    if (!secret || secret.type !== serviceAccountTokenSecretType || secret.metadata.deletionTimestamp) return;
    const namespace = secret.metadata.namespace ?? '';
    const name = secret.metadata.name ?? '';
    const account = await this.accountOf(secret);
    if (!account) {
      await this.deleteToken(secret);
      return;
    }
    // The Secret as it is now: another writer may have filled it since the cache saw it.
    const live = await this.client.getIfExists<Secret>({ ...secretsResource, namespace, name });
    if (!live || live.metadata.uid !== secret.metadata.uid) return;
    const data = { ...(live.data ?? {}) };
    const needsCa = this.opts.rootCaPem !== undefined && decoded(data['ca.crt']) !== this.opts.rootCaPem;
    const needsNamespace = !data.namespace;
    const needsToken = !data.token;
    if (!needsCa && !needsNamespace && !needsToken) return;
    if (needsCa) data['ca.crt'] = encoded(this.opts.rootCaPem!);
    if (needsNamespace) data.namespace = encoded(namespace);
    if (needsToken) data.token = encoded(signJwt(legacyTokenClaims(account, name), this.key));
    const annotations = { ...(live.metadata.annotations ?? {}), [serviceAccountNameAnnotation]: account.metadata.name ?? '', [serviceAccountUidAnnotation]: account.metadata.uid ?? '' };
    try {
      await this.client.update({ ...secretsResource, namespace, name }, { ...live, metadata: { ...live.metadata, annotations }, data });
    } catch (err) {
      // Changed or deleted meanwhile: the informer brings the Secret back to the queue if it is still there.
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      throw err;
    }
    this.log(`secret ${namespace}/${name}: ${needsToken ? 'token' : 'data'} for service account ${namespace}/${account.metadata.name ?? ''}`);
  }

  /**
   * The account a token Secret names, when it exists with the UID the Secret
   * names (if any); asked of the API server when the cache does not have it,
   * since deleting the Secret on a stale cache's word could not be undone.
   */
  private async accountOf(secret: Secret): Promise<KubeObject | undefined> {
    const namespace = secret.metadata.namespace ?? '';
    const name = secret.metadata.annotations?.[serviceAccountNameAnnotation] ?? '';
    const uid = secret.metadata.annotations?.[serviceAccountUidAnnotation] ?? '';
    const matches = (sa: KubeObject | undefined) => (sa && !sa.metadata.deletionTimestamp && (!uid || sa.metadata.uid === uid) ? sa : undefined);
    const cached = matches(this.serviceAccounts.get(objectKey({ metadata: { namespace, name } })));
    if (cached || !name) return cached;
    return matches(await this.client.getIfExists({ ...serviceAccountsResource, namespace, name }));
  }

  /** Deletes a token Secret whose account is gone, only if it is still the Secret the cache saw. */
  private async deleteToken(secret: Secret): Promise<void> {
    const namespace = secret.metadata.namespace ?? '';
    const name = secret.metadata.name ?? '';
    try {
      await this.client.delete({ ...secretsResource, namespace, name }, { preconditions: { uid: secret.metadata.uid } });
      this.log(`secret ${namespace}/${name}: deleted, its service account ${secret.metadata.annotations?.[serviceAccountNameAnnotation] ?? ''} does not exist`);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
