// Terminal resize messages of kubectl's resize stream (SPDY) or channel 4
// (WebSocket): JSON objects {"Width":120,"Height":40}, one after another
// (client-go writes them with a json.Encoder, so newline-separated), split
// across reads anywhere.

export interface TerminalSize {
  width: number;
  height: number;
}

/** Reads a stream of resize messages; bad ones are skipped, never thrown. */
export class ResizeDecoder {
  private buffer = '';

  constructor(private readonly onSize: (size: TerminalSize) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += chunk.toString();
    // Objects are flat, so each one ends at the first '}' after its '{'.
    for (;;) {
      const start = this.buffer.indexOf('{');
      if (start < 0) {
        this.buffer = '';
        return;
      }
      const end = this.buffer.indexOf('}', start);
      if (end < 0) {
        this.buffer = this.buffer.slice(start);
        if (this.buffer.length > 4096) this.buffer = '';
        return;
      }
      const text = this.buffer.slice(start, end + 1);
      this.buffer = this.buffer.slice(end + 1);
      const size = parseTerminalSize(text);
      if (size) this.onSize(size);
    }
  }
}

/** {"Width":..,"Height":..} as client-go's TerminalSize marshals it; undefined when it is not one. */
export function parseTerminalSize(text: string): TerminalSize | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const width = o.Width ?? o.width;
  const height = o.Height ?? o.height;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffff;
  return ok(width) && ok(height) ? { width, height } : undefined;
}
