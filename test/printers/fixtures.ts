// A fixed clock and timestamps relative to it, so ages in expected cells are exact.
import type { KubeObject } from '../../src/api/object.js';

export const now = new Date('2024-05-01T12:00:00Z');

export const second = 1000;
export const minute = 60 * second;
export const hour = 60 * minute;
export const day = 24 * hour;

/** An RFC 3339 timestamp the given milliseconds before `now`. */
export function ago(ms: number): string {
  return new Date(now.getTime() - ms).toISOString().replace(/\.000Z$/, 'Z');
}

export function object(kind: string, name: string, fields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return { kind, metadata: { name, creationTimestamp: ago(10 * minute), ...metadata }, ...fields };
}
