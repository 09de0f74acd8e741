// The one way a server of the local cloud serves HTTP. Every region and account runs in one
// process, so one bad request must never take the others down: the body is read with a size
// limit, the whole handler (writing the status line and headers included) runs inside error
// handling, a bug becomes the service's own 500 answer and a log line, and a client that goes
// away mid-request is forgotten quietly. Handlers are functions from a request to a response,
// apart from the listening code, so that the edge endpoint can call them directly too.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { closeServer, listenOnLoopback, LOOPBACK } from "./listen";

export interface HttpRequest {
  method: string;
  /** The request target as received: percent-encoded path and query. */
  url: string;
  /** The path as received, percent-encoded. */
  rawPath: string;
  /** The query as received, without "?". */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /** Header names and values in the order and spelling they arrived. */
  rawHeaders: string[];
  body: Buffer;
  /** The body was larger than the server's limit: `body` is empty, the rest was drained. */
  bodyTooLarge: boolean;
  remoteAddress: string;
  httpVersion: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string | number | string[]>;
  body?: Buffer | string;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface ServeOptions {
  /** Named in log lines. */
  name: string;
  port?: number;
  /** Bodies above this are not kept (default 10 MiB, API Gateway's payload limit). */
  maxBodyBytes?: number;
  /** The service's answer to a body over the limit; without it the handler sees `bodyTooLarge`. */
  onTooLarge?: (limitBytes: number) => HttpResponse;
  /** The service's own answer to an error the handler threw (a bug, or a refusal it raised). */
  onError: (error: unknown, request: HttpRequest) => HttpResponse;
  log?: (line: string) => void;
  /** The server's clock (epoch ms) for the `Date` header of its answers; the machine's when absent. */
  now?: () => number;
}

export interface RunningHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function serveHttp(handler: HttpHandler, options: ServeOptions): Promise<RunningHttpServer> {
  const server: Server = createServer((incoming, outgoing) => void respond(handler, options, incoming, outgoing));
  // Clients (the SDKs' agents) keep connections for reuse; a server that closes an idle one just
  // as a client sends on it makes the client see "socket hang up". Outlast their idle time.
  server.keepAliveTimeout = 65_000;
  const port = await listenOnLoopback(server, options.port);
  return { url: `http://${LOOPBACK}:${port}`, port, stop: () => closeServer(server) };
}

/** Reads and answers one request; never throws. */
export async function respond(handler: HttpHandler, options: ServeOptions, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  const log = options.log ?? ((line: string) => console.error(line));
  outgoing.on("error", () => {}); // the client went away: nothing left to tell it
  let request: HttpRequest | undefined;
  let response: HttpResponse;
  try {
    request = await readRequest(incoming, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    response = request.bodyTooLarge && options.onTooLarge ? options.onTooLarge(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) : await handler(request);
  } catch (error) {
    if (!request) return void incoming.destroy(); // the connection broke while the body arrived
    response = answerError(options, error, request, log);
  }
  if (options.now) outgoing.setHeader("date", new Date(options.now()).toUTCString());
  write(outgoing, incoming.method === "HEAD", response, (problem) => {
    log(`${options.name}: ${incoming.method} ${request?.rawPath}: the answer could not be sent as built (${problem}); sent 500 instead`);
    return answerError(options, new Error(problem), request!, log);
  });
}

function answerError(options: ServeOptions, error: unknown, request: HttpRequest, log: (line: string) => void): HttpResponse {
  try {
    const response = options.onError(error, request);
    if (response.status >= 500) log(`${options.name}: ${request.method} ${request.rawPath}: ${(error as Error)?.stack ?? String(error)}`);
    return response;
  } catch (secondary) {
    log(`${options.name}: ${request.method} ${request.rawPath}: error answer failed: ${(secondary as Error).message}`);
    return { status: 500, headers: { "content-type": "text/plain" }, body: "Internal error" };
  }
}

function write(outgoing: ServerResponse, isHead: boolean, response: HttpResponse, fallback: (problem: string) => HttpResponse): void {
  const attempt = (r: HttpResponse): string | undefined => {
    const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, "utf8");
    if (!Number.isInteger(r.status) || r.status < 100 || r.status > 599) return `status ${String(r.status)} is not an HTTP status`;
    try {
      const headers = Object.fromEntries(Object.entries(r.headers ?? {}).filter(([name]) => name.toLowerCase() !== "content-length"));
      outgoing.writeHead(r.status, { ...headers, "content-length": String(body.length) });
    } catch (error) {
      return (error as Error).message;
    }
    outgoing.end(isHead ? undefined : body);
    return undefined;
  };
  if (outgoing.headersSent || outgoing.destroyed) return;
  const problem = attempt(response);
  if (problem !== undefined && !outgoing.headersSent) {
    // Headers rejected by Node (CR/LF, invalid characters) leave nothing sent: answer plainly.
    for (const name of outgoing.getHeaderNames()) outgoing.removeHeader(name);
    if (attempt(fallback(problem)) !== undefined) outgoing.destroy();
  }
}

function readRequest(incoming: IncomingMessage, limit: number): Promise<HttpRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    incoming.on("error", reject);
    incoming.on("aborted", () => reject(new Error("client aborted the request")));
    incoming.on("end", () => {
      const url = incoming.url ?? "/";
      const q = url.indexOf("?");
      const tooLarge = size > limit;
      resolve({
        method: (incoming.method ?? "GET").toUpperCase(),
        url,
        rawPath: q < 0 ? url : url.slice(0, q),
        rawQuery: q < 0 ? "" : url.slice(q + 1),
        headers: incoming.headers,
        rawHeaders: incoming.rawHeaders,
        body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks),
        bodyTooLarge: tooLarge,
        remoteAddress: incoming.socket.remoteAddress?.replace(/^::ffff:/, "") ?? LOOPBACK,
        httpVersion: incoming.httpVersion,
      });
    });
  });
}

/** A JSON answer. */
export function jsonResponse(status: number, body: unknown, contentType = "application/json", headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "content-type": contentType, ...headers }, body: JSON.stringify(body) };
}
