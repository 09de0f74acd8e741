// Reads a request body of at most `maxBytes` for the servers that do not go through serveHttp
// (the stand-ins' own HTTP servers): past the limit, the request is dropped and `tooLarge` says why.
import type { IncomingMessage } from "node:http";

export function readBodyWithin(
  request: IncomingMessage,
  maxBytes: number,
  tooLarge: () => Error
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(tooLarge());
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}
