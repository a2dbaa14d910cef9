// Child process for the kill -9 test: writes forever from 64 concurrent
// writers and prints each key the moment its create is acknowledged.
// Writes to a pipe are synchronous on Linux, so a printed key reached the
// parent before any kill could land.
import { pathToFileURL } from 'node:url';
import { SqliteBackend } from '../../src/storage/sqlite.js';

export function durableValue(key: string): string {
  return JSON.stringify({ key, padding: 'x'.repeat(200) });
}

const dataDir = process.argv[2];
const runAsChild = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsChild && dataDir) {
  const backend = new SqliteBackend(dataDir);
  let next = 0;
  const writer = async (): Promise<void> => {
    for (;;) {
      const key = `/durable/${next++}`;
      const result = await backend.create(key, durableValue(key));
      if (!result.ok) throw new Error(`create of ${key} failed`);
      process.stdout.write(`${key}\n`);
    }
  };
  for (let i = 0; i < 64; i++) void writer();
}
