// Backends (dynalite, kinesalite) listen on Unix sockets in a directory only this user can
// enter, never on a TCP port: the edge endpoint, which checks signatures and IAM, is the only way
// in. A backend on loopback would let any process on the machine read every table unsigned.
import { Agent, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { createConnection } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** A private directory for backend sockets (0700), short enough for the 107-byte socket path limit. */
export function privateSocketDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "lc-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function listenOnSocket(server: Server, path: string): Promise<void> {
  // The background processes' SDK clients pool connections: never close one under them.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** An HTTP agent whose connections go to a Unix socket, for SDK clients of a backend. */
class SocketAgent extends Agent {
  constructor(private readonly socketPath: string) {
    super({ keepAlive: true });
  }
  override createConnection(_options: unknown, callback?: (error: Error | null, socket: ReturnType<typeof createConnection>) => void) {
    const socket = createConnection(this.socketPath);
    if (callback) socket.once("connect", () => callback(null, socket));
    return socket;
  }
}

/** An SDK request handler that talks to a backend's socket (the endpoint's host is ignored). */
export function socketRequestHandler(socketPath: string): NodeHttpHandler {
  return new NodeHttpHandler({ httpAgent: new SocketAgent(socketPath) });
}

export interface BackendAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends one request to a backend's socket and reads the whole answer. */
export function requestOverSocket(socketPath: string, request: { method: string; path: string; headers: IncomingHttpHeaders; body: Buffer }): Promise<BackendAnswer> {
  return new Promise((resolve, reject) => {
    const forward = httpRequest(
      // A connection per request: a Unix socket costs little, and a pooled one the backend closed
      // while idle would fail the next request ("socket hang up").
      { socketPath, agent: false, method: request.method, path: request.path, headers: { ...request.headers, "content-length": String(request.body.length), connection: "close" } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on("error", reject);
      },
    );
    forward.on("error", reject);
    forward.end(request.body);
  });
}
