// Watch: a chunked stream of {"type","object"} lines from the watch cache,
// with filtering (an object leaving the filter is sent as DELETED), bookmarks,
// timeouts and back-pressure.
import type { KubeObject } from '../../api/object.js';
import { negotiateOutput } from '../http/respond.js';
import { queryFlag } from '../http/request-info.js';
import { parseResourceVersion, selects } from '../registry/store.js';
import type { CacheEvent, CachedObject } from '../watch-cache.js';
import { includeObject, partialMetadata, tableResponse } from './output.js';
import { int64Param, validateWatchOptions } from './list-options.js';
import { requestFilter, type ResourceRequest } from './resource.js';

/** Bytes buffered for a slow watcher before it is dropped (it re-lists and re-watches). */
const maxBufferedBytes = 16 * 1024 * 1024;
const bookmarkIntervalMs = 30_000;

export async function serveWatch(r: ResourceRequest): Promise<void> {
  const { req, res, store, query } = r;
  const output = negotiateOutput(req);
  const filter = requestFilter(r);
  const nameFilter = r.info.name;
  const prefix = store.listPrefix(r.info.namespace);
  // The name by the key (names hold no "/"): an unfiltered watch never parses what the cache holds as text.
  const keySuffix = nameFilter === undefined ? undefined : nameFilter.includes('/') ? null : '/' + nameFilter;
  const matches = (item: CachedObject) => keySuffix !== null && (keySuffix === undefined || item.key.endsWith(keySuffix)) && (filter === undefined || selects(filter, item));
  const rvParam = query.get('resourceVersion') ?? '';
  const sendInitial = queryFlag(query, 'sendInitialEvents');
  validateWatchOptions(query);
  const bookmarks = queryFlag(query, 'allowWatchBookmarks');
  const timeoutSeconds = int64Param(query, 'timeoutSeconds');
  // A timer holds at most 2^31-1 ms (about 24 days); a longer one would fire at once.
  const timeoutMs = Math.min(timeoutSeconds ? timeoutSeconds * 1000 : (1800 + Math.floor(Math.random() * 1800)) * 1000, 2 ** 31 - 1);

  // rv unset or "0" (or sendInitialEvents): synthetic ADDED events for what exists now, then changes.
  const initial = rvParam === '' || rvParam === '0' || sendInitial;
  const fromRevision = initial ? undefined : parseResourceVersion(rvParam);

  if (output.table) includeObject(query); // a bad value is refused before the stream starts
  let closed = false;
  let lastRevision = 0;
  let columnsSent = false;
  const encode = (type: string, obj: KubeObject): string => {
    let object: unknown = r.versions.out(obj);
    if (output.table) {
      object = tableResponse(r, [obj], output, !columnsSent);
      columnsSent = true;
    } else if (output.metadataOnly) object = partialMetadata(obj);
    return JSON.stringify({ type, object }) + '\n';
  };
  const write = (line: string) => {
    if (closed) return;
    res.write(line);
    if (res.writableLength > maxBufferedBytes) finish();
  };
  // Live events that arrive before the initial state is written wait here.
  let pending: CacheEvent[] | undefined = [];
  const onEvent = (ev: CacheEvent) => {
    if (closed || !ev.key.startsWith(prefix)) return;
    if (pending) {
      pending.push(ev);
      return;
    }
    lastRevision = ev.revision;
    const now = matches(ev.current);
    const before = ev.previous ? matches(ev.previous) : false;
    if (ev.type === 'DELETED') {
      if (before) write(encodeShared(ev, 'DELETED'));
      return;
    }
    if (now && (ev.type === 'ADDED' || before)) write(encodeShared(ev, ev.type));
    else if (now && !before) write(encodeShared(ev, 'ADDED'));
    else if (!now && before && ev.previous) {
      // It left the filter: the watcher sees its last matching state go, at this event's version.
      const last = ev.previous.object;
      write(encode('DELETED', { ...last, metadata: { ...last.metadata, resourceVersion: String(ev.revision) } }));
    }
  };
  // Plain JSON events are encoded from the cache's serialized object, no re-stringify.
  const encodeShared = (ev: CacheEvent, type: string): string =>
    output.table || output.metadataOnly ? encode(type, ev.current.view()) : `{"type":"${type}","object":${r.versions.json(ev.current)}}\n`;

  let stopWatch: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    stopWatch?.();
    for (const t of timers) clearTimeout(t);
    res.end();
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  req.on('close', finish);
  res.on('close', finish);

  const started = await store.watch(fromRevision, prefix, {
    onEvent,
    onTerminate: (err) => {
      write(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Expired', code: 410 } }) + '\n');
      finish();
    },
  }).catch((err: unknown) => {
    // Too old a resourceVersion: Kubernetes answers 200 then an ERROR event with the 410 Status.
    const e = err as { toStatus?: () => unknown; message?: string };
    write(JSON.stringify({ type: 'ERROR', object: e.toStatus ? e.toStatus() : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(e.message), code: 500 } }) + '\n');
    finish();
    return undefined;
  });
  if (!started) return;
  stopWatch = started.stop;
  lastRevision = started.startRevision;
  for (const item of started.snapshot) {
    if (matches(item)) write(output.table || output.metadataOnly ? encode('ADDED', item.view()) : `{"type":"ADDED","object":${r.versions.json(item)}}\n`);
  }
  if (sendInitial && bookmarks) write(bookmark(r.versions.apiVersion, store.info.kind, started.startRevision, true));
  const held = pending;
  pending = undefined;
  for (const ev of held) onEvent(ev);
  if (closed) return;
  if (bookmarks) {
    const tick = () => {
      write(bookmark(r.versions.apiVersion, store.info.kind, Math.max(lastRevision, store.cache.revision), false));
      timers.push(setTimeout(tick, bookmarkIntervalMs).unref());
    };
    timers.push(setTimeout(tick, bookmarkIntervalMs).unref());
  }
  timers.push(setTimeout(finish, timeoutMs).unref());
}

function bookmark(apiVersion: string, kind: string, revision: number, initialEventsEnd: boolean): string {
  const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return JSON.stringify({ type: 'BOOKMARK', object: { kind, apiVersion, metadata } }) + '\n';
}
