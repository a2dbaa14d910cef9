// A request's view of its resource's versions: objects go out at the
// version the request named and come in converted to the storage version.
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import { convertObject } from '../conversion.js';
import type { CachedObject } from '../watch-cache.js';

export class VersionView {
  readonly apiVersion: string;
  /** The request's version is the storage version: nothing to convert. */
  readonly same: boolean;

  /**
   * `info` is the resource the request named; `storage` the one whose store
   * holds it (another for events.k8s.io Events, kept with core Events).
   */
  constructor(
    readonly info: ResourceInfo,
    readonly version: string,
    private readonly storage: ResourceInfo,
    private readonly storageVersion: string,
  ) {
    this.apiVersion = info.group ? `${info.group}/${version}` : version;
    this.same = info === storage && version === storageVersion;
  }

  out(obj: KubeObject): KubeObject {
    return this.same ? obj : convertObject(this.info, obj, this.version);
  }

  /** A cached object's JSON at the request's version (the cache's own text when no conversion is needed). */
  json(item: CachedObject): string {
    return this.same ? item.json : JSON.stringify(this.out(item.view()));
  }

  in(obj: KubeObject): KubeObject {
    return this.same ? obj : convertObject(this.storage, obj, this.storageVersion);
  }
}
