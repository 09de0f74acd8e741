// An emulated AWS API as a plain function from a whole request to a response, apart from the
// code that listens: one server per API here, and any front that routes requests by service can
// call the same function.
import { createServer } from "node:http";
import { readBody } from "./aws-wire";
import { closeServer, listenOnLoopback, LOOPBACK } from "./listen";
import type { SignedRequest } from "./sigv4";

/** A request as received: raw path and query, headers, the whole body (the shape SigV4 verifies). */
export type HttpRequest = SignedRequest;

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type HttpHandler = (request: HttpRequest) => HttpResponse;

export interface RunningHandlerServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  stop(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 (port 0: a free one). */
export async function serveHandler(handler: HttpHandler, port = 0): Promise<RunningHandlerServer> {
  const server = createServer((incoming, outgoing) => {
    const send = (response: HttpResponse) => {
      outgoing.writeHead(response.status, { ...response.headers, "content-length": Buffer.byteLength(response.body) });
      outgoing.end(response.body);
    };
    readBody(incoming)
      .then((body) => {
        const [path, query = ""] = (incoming.url ?? "/").split(/\?(.*)/s);
        send(handler({ method: incoming.method ?? "GET", path, query, headers: incoming.headers, body }));
      })
      .catch((error: Error & { statusCode?: number }) => {
        // A body over the limit; the handlers answer their own errors.
        send({ status: error.statusCode ?? 500, headers: { "content-type": "text/plain" }, body: error.message });
      });
  });
  const listening = await listenOnLoopback(server, port);
  return { endpoint: `http://${LOOPBACK}:${listening}`, stop: () => closeServer(server) };
}
