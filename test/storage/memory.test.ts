import { describe } from 'node:test';
import { MemoryBackend } from '../../src/storage/memory.js';
import { backendConformance } from './conformance.js';

describe('memory backend', () => {
  backendConformance(
    async () => {
      const backend = new MemoryBackend();
      return { backend, dispose: () => backend.close() };
    },
    { persistent: false },
  );
});
