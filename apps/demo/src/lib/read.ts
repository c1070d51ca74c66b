// Reading a file or a download to the end, reporting each chunk: the bytes of
// a model's weights arrive in pieces, and the page shows them arriving.

/**
 * Read `body` into one buffer, calling `onBytes(n)` after each chunk. With a
 * known `size` the buffer is allocated once and filled in place, so a 500 MB
 * file is never held twice; if more bytes come than announced (a wrong
 * Content-Length), or the size is unknown, the chunks are joined at the end.
 */
export async function readStream(body: ReadableStream<Uint8Array>, size: number | null, onBytes: (n: number) => void = () => {}): Promise<Uint8Array> {
  const reader = body.getReader();
  let buffer: Uint8Array | null = size !== null ? new Uint8Array(size) : null;
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (buffer && length + value.length > buffer.length) {
      chunks.push(buffer.subarray(0, length)); // the size was wrong: keep what came and gather the rest
      buffer = null;
    }
    if (buffer) buffer.set(value, length);
    else chunks.push(value);
    length += value.length;
    onBytes(value.length);
  }
  if (buffer) return length === buffer.length ? buffer : buffer.subarray(0, length);
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
