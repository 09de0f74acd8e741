// The serving helper every local cloud server uses: whatever a handler does (throw, reject, answer
// a header Node refuses to send, a status that is no HTTP status), the client gets an answer, the
// bug a log line, and the server keeps serving.
import { afterEach, describe, expect, it } from "vitest";
import { serveHttp, type HttpHandler, type RunningHttpServer } from "../local/lib/http-serve";

let server: RunningHttpServer | undefined;
const logged: string[] = [];

async function serve(handler: HttpHandler, maxBodyBytes?: number) {
  server = await serveHttp(handler, {
    name: "test",
    maxBodyBytes,
    log: (line) => logged.push(line),
    onError: (error) => ({ status: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ message: (error as Error).message }) }),
  });
  return server.url;
}

afterEach(async () => {
  await server?.stop();
  server = undefined;
  logged.length = 0;
});

describe("serveHttp", () => {
  it("answers a handler's throw and rejection with the service's 500, and logs the bug", async () => {
    const url = await serve((request) => {
      if (request.rawPath === "/throw") throw new Error("thrown");
      return Promise.reject(new Error("rejected"));
    });
    expect(await (await fetch(`${url}/throw`)).json()).toEqual({ message: "thrown" });
    const rejected = await fetch(`${url}/reject`);
    expect(rejected.status).toBe(500);
    expect(logged.some((line) => line.includes("rejected"))).toBe(true);
  });

  it("sends a plain 500 when the answer's headers or status cannot be sent, and keeps serving", async () => {
    const url = await serve((request) =>
      request.rawPath === "/crlf"
        ? { status: 200, headers: { "x-injected": "a\r\nSet-Cookie: evil=1" }, body: "never" }
        : request.rawPath === "/status"
          ? { status: 1200, body: "never" }
          : { status: 200, body: "fine" },
    );
    const crlf = await fetch(`${url}/crlf`);
    expect(crlf.status).toBe(500);
    expect(crlf.headers.get("set-cookie")).toBeNull();
    expect((await fetch(`${url}/status`)).status).toBe(500);
    expect(await (await fetch(`${url}/ok`)).text()).toBe("fine");
  });

  it("keeps no body above the limit and tells the handler", async () => {
    const url = await serve((request) => ({ status: 200, body: JSON.stringify({ tooLarge: request.bodyTooLarge, kept: request.body.length }) }), 1024);
    expect(await (await fetch(url, { method: "POST", body: Buffer.alloc(2048) })).json()).toEqual({ tooLarge: true, kept: 0 });
    expect(await (await fetch(url, { method: "POST", body: Buffer.alloc(512) })).json()).toEqual({ tooLarge: false, kept: 512 });
  });
});
