// A node:test reporter that prints nothing until the run ends, then every failed test again:
// its file, its name (with the suites around it) and its error. The full TAP output can be
// thousands of lines long; this keeps what failed at its end, where a log's tail shows it.
import { inspect } from 'node:util';

export default async function* failures(source) {
  const failed = [];
  const paths = new Map(); // file -> names of the tests open at each nesting level
  for await (const event of source) {
    if (event.type === 'test:start') {
      const path = paths.get(event.data.file) ?? [];
      paths.set(event.data.file, path);
      path[event.data.nesting] = event.data.name;
      path.length = event.data.nesting + 1;
    } else if (event.type === 'test:fail') {
      const { data } = event;
      const error = data.details?.error;
      // A suite fails when one of its tests does; the test itself is reported.
      if (error?.failureType === 'subtestsFailed') continue;
      const names = (paths.get(data.file) ?? []).slice(0, data.nesting).concat(data.name);
      failed.push({ file: data.file, name: names.join(' > '), error });
    }
  }
  if (failed.length === 0) return;
  yield `\n# ${failed.length} failed:\n`;
  for (const f of failed) {
    yield `\n# not ok: ${f.name}\n`;
    if (f.file) yield `#   file: ${f.file}\n`;
    const text = inspect(f.error?.cause ?? f.error, { depth: 4, breakLength: 100 });
    const lines = text.split('\n').filter((line) => !/^\s+at (.*\()?node:/.test(line)); // Node's own frames say nothing
    yield lines.map((line) => `#   ${line}`).join('\n') + '\n';
  }
}
