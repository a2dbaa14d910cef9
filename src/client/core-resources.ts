// The core/v1 resources that every component watches or writes, named once.
import type { ResourcePath } from './rest.js';

export const podsResource: ResourcePath = { group: '', version: 'v1', plural: 'pods' };
export const nodesResource: ResourcePath = { group: '', version: 'v1', plural: 'nodes' };
