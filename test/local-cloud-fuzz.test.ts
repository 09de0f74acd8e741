// Every region and account of the local cloud runs in one process, so no input may take it down.
// Malformed requests go to every port it listens on (bad percent-encoding, bad JSON, CR/LF in
// headers, huge and truncated bodies, garbage on raw TCP, a DNS packet of noise); then a normal
// request on each port must still be answered. An exception or a rejection nobody handled would
// also fail this file (vitest reports them as errors of the run).
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startPlatformCloud("fuzz");
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

/** Every HTTP server of the running local cloud, by what it is. */
function httpPorts(): Record<string, string> {
  const e = cloud.endpoints();
  return {
    edge: e.services.edge,
    control: e.control.url,
    ...Object.fromEntries(Object.entries(e.regions).map(([region, r]) => [`api gateway ${region}`, r.gatewayUrl])),
    "s3 website": new URL(Object.values(e.websites)[0]).origin,
    nasa: e.nasa!.url,
    oidc: e.oidc!.url,
    idp: new URL(e.idp!.url).origin,
    "platform domain": e.platformDomain!.httpUrl,
  };
}

/** Sends raw bytes and returns whatever comes back before the server closes (or 2 s pass). */
function raw(url: string, bytes: Buffer | string, options: { closeEarly?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, done);
    socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => {
      socket.write(bytes);
      if (options.closeEarly) setTimeout(() => socket.end(), 50);
    });
  });
}

const host = (url: string) => new URL(url).host;
const MALFORMED: Array<[string, (url: string) => Promise<unknown>]> = [
  ["garbage on raw TCP", (url) => raw(url, randomBytes(512))],
  ["bad percent-encoding in the path", (url) => raw(url, `GET /% HTTP/1.1\r\nHost: ${host(url)}\r\nConnection: close\r\n\r\n`)],
  ["bad percent-encoding in the query", (url) => raw(url, `GET /a?b=%zz&c=%E0%A4%A HTTP/1.1\r\nHost: ${host(url)}\r\nConnection: close\r\n\r\n`)],
  ["CR/LF inside a header", (url) => raw(url, `GET / HTTP/1.1\r\nHost: ${host(url)}\r\nX-Evil: a\rb\r\nConnection: close\r\n\r\n`)],
  ["a header line without a colon", (url) => raw(url, `GET / HTTP/1.1\r\nHost: ${host(url)}\r\nnot a header\r\n\r\n`)],
  [
    "bad JSON with a JSON content type",
    (url) => fetch(url, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.PutItem" }, body: '{"TableName": ' }).then((r) => r.text()),
  ],
  ["a body of 12 MB", (url) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.alloc(12 * 1024 * 1024, 0x61) }).then((r) => r.text(), () => undefined)],
  ["a truncated body", (url) => raw(url, `POST / HTTP/1.1\r\nHost: ${host(url)}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":`, { closeEarly: true })],
  ["an unknown method", (url) => raw(url, `BREW / HTTP/1.1\r\nHost: ${host(url)}\r\nConnection: close\r\n\r\n`)],
  ["a signed-looking request with a forged signature", (url) =>
    fetch(url, {
      method: "POST",
      headers: {
        authorization: "AWS4-HMAC-SHA256 Credential=AKIAFORGED/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=" + "0".repeat(64),
        "x-amz-date": "20260101T000000Z",
        "x-amz-target": "DynamoDB_20120810.Scan",
        "content-type": "application/x-amz-json-1.0",
      },
      body: '{"TableName":"SAMLSessions"}',
    }).then((r) => r.text())],
];

describe("malformed input on every port", () => {
  it.each(MALFORMED)("%s: every server still answers afterwards", async (_name, send) => {
    const ports = httpPorts();
    for (const url of Object.values(ports)) await send(url);
    for (const [name, url] of Object.entries(ports)) {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      expect(response.status, name).toBeGreaterThanOrEqual(200);
      expect(response.status, name).toBeLessThan(600);
      await response.arrayBuffer();
    }
  }, 60_000);

  it("the DNS server survives noise over UDP and TCP and still answers", async () => {
    const [address, port] = cloud.endpoints().dns!.address.split(":");
    await new Promise<void>((resolve) => {
      const udp = createSocket("udp4");
      udp.send(randomBytes(64), Number(port), address, () => {
        udp.close();
        resolve();
      });
    });
    await raw(`http://${address}:${port}`, Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(100)]));
    const { Resolver } = await import("node:dns/promises");
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([cloud.endpoints().dns!.address]);
    expect((await resolver.resolveCname(cloud.endpoints().platformDomain!.name))[0]).toMatch(/execute-api\.us-east-1\.amazonaws\.com$/);
  });

  it("nothing forged reached the data: the parked credentials table was never scanned", async () => {
    const response = await fetch(cloud.endpoints().services.edge, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.Scan" },
      body: '{"TableName":"SAMLSessions"}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: "MissingAuthenticationTokenException" });
  });
});
