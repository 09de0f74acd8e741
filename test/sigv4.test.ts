// The SigV4 verifier against requests signed by the real AWS SDK v3: header auth and presigned
// URLs, for S3 (path signed as sent, UNSIGNED-PAYLOAD) and execute-api (path encoded again,
// body hash), and every refusal with its code.
import { createServer, type Server } from "node:http";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/core/serde";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, listenOnLoopback } from "../local/lib/listen";
import { verifySigV4, type CredentialLookup, type SignedRequest } from "../local/lib/sigv4";

const KEYS = { AKIDEXAMPLE: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } as Record<string, string>;
const lookup: CredentialLookup = (id) => (KEYS[id] ? { secretAccessKey: KEYS[id] } : undefined);
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: KEYS.AKIDEXAMPLE };

/** Signs like a browser or a service client would, with the SDK's signer. */
async function signExecuteApi(options: { body?: string; path?: string; query?: Record<string, string | string[]>; sessionToken?: string; date?: Date } = {}) {
  const signer = new SignatureV4({
    service: "execute-api",
    region: "us-west-2",
    credentials: { ...credentials, sessionToken: options.sessionToken },
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "https:",
      hostname: "abc123.execute-api.us-west-2.amazonaws.com",
      path: options.path ?? "/prod/users/b%C3%B6b%20smith",
      query: options.query ?? { b: "2", a: ["z", "y"], "sp ace": "x/y" },
      headers: { host: "abc123.execute-api.us-west-2.amazonaws.com", "content-type": "application/json", "x-custom": "  two   spaces " },
      body: options.body ?? '{"hello":"world"}',
    },
    { signingDate: options.date },
  );
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`))
    .join("&");
  return { method: signed.method, path: signed.path, query, headers: signed.headers, body: Buffer.from(options.body ?? '{"hello":"world"}') } satisfies SignedRequest;
}

describe("header auth (execute-api, signed by @smithy/signature-v4)", () => {
  it("accepts the request as signed, with region, service and signing time", async () => {
    const request = await signExecuteApi();
    const result = verifySigV4(request, lookup);
    expect(result).toMatchObject({ ok: true, accessKeyId: "AKIDEXAMPLE", region: "us-west-2", service: "execute-api" });
    if (result.ok) expect(Math.abs(result.signedAt.getTime() - Date.now())).toBeLessThan(5000);
  });

  it.each([
    ["a changed body", (r: SignedRequest) => ({ ...r, body: Buffer.from('{"hello":"there"}') })],
    ["a changed path", (r: SignedRequest) => ({ ...r, path: "/prod/users/alice" })],
    ["a changed query value", (r: SignedRequest) => ({ ...r, query: r.query.replace("b=2", "b=3") })],
    ["an added query parameter", (r: SignedRequest) => ({ ...r, query: `${r.query}&admin=true` })],
    ["a changed signed header", (r: SignedRequest) => ({ ...r, headers: { ...r.headers, "content-type": "text/plain" } })],
    ["another method", (r: SignedRequest) => ({ ...r, method: "PUT" })],
  ])("refuses %s with InvalidSignature", async (_, tamper) => {
    const result = verifySigV4(tamper(await signExecuteApi()), lookup);
    expect(result).toMatchObject({ ok: false, code: "InvalidSignature" });
  });

  it("ignores headers that were not signed (proxies add them)", async () => {
    const request = await signExecuteApi();
    expect(verifySigV4({ ...request, headers: { ...request.headers, "x-forwarded-for": "10.0.0.1", "user-agent": "curl" } }, lookup).ok).toBe(true);
  });

  it("refuses a wrong secret, an unknown key and a signed header that is missing", async () => {
    const request = await signExecuteApi();
    expect(verifySigV4(request, () => ({ secretAccessKey: "not-the-secret" }))).toMatchObject({ ok: false, code: "InvalidSignature" });
    expect(verifySigV4(request, () => undefined)).toMatchObject({ ok: false, code: "UnknownAccessKey", message: expect.stringContaining("AKIDEXAMPLE") });
    const { "x-custom": _, ...headers } = request.headers;
    expect(verifySigV4({ ...request, headers }, lookup)).toMatchObject({ ok: false, code: "IncompleteSignature", message: expect.stringContaining("x-custom") });
  });

  it("refuses a request signed more than 15 minutes away from now", async () => {
    const request = await signExecuteApi({ date: new Date(Date.now() - 16 * 60 * 1000) });
    expect(verifySigV4(request, lookup)).toMatchObject({ ok: false, code: "RequestTimeTooSkewed", message: expect.stringContaining("Signature expired") });
    expect(verifySigV4(request, lookup, { maxSkewMs: 20 * 60 * 1000 }).ok).toBe(true);
  });

  it("checks session tokens and their expiry", async () => {
    const request = await signExecuteApi({ sessionToken: "token-1" });
    const temporary = (token: string, expiresAt?: Date): CredentialLookup => () => ({ secretAccessKey: KEYS.AKIDEXAMPLE, sessionToken: token, expiresAt });
    expect(verifySigV4(request, temporary("token-1", new Date(Date.now() + 60_000))).ok).toBe(true);
    expect(verifySigV4(request, temporary("token-2"))).toMatchObject({ ok: false, code: "InvalidSignature" });
    expect(verifySigV4(request, temporary("token-1", new Date(Date.now() - 1000)))).toMatchObject({ ok: false, code: "ExpiredToken" });
    expect(verifySigV4(await signExecuteApi(), temporary("token-1"))).toMatchObject({ ok: false, code: "InvalidSignature", message: expect.stringContaining("session token") });
  });

  it("names what is wrong with an unsigned or malformed request", async () => {
    const request = await signExecuteApi();
    const withAuth = (authorization: string) => ({ ...request, headers: { ...request.headers, authorization } });
    expect(verifySigV4({ ...request, headers: { host: "x" } }, lookup)).toMatchObject({ ok: false, code: "MissingAuthenticationToken" });
    expect(verifySigV4(withAuth("Basic dXNlcjpwYXNz"), lookup)).toMatchObject({ ok: false, code: "IncompleteSignature", message: expect.stringContaining("Basic") });
    expect(verifySigV4(withAuth("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/execute-api/aws4_request"), lookup)).toMatchObject({
      ok: false,
      code: "IncompleteSignature",
      message: expect.stringContaining("SignedHeaders, Signature"),
    });
    const auth = String(request.headers.authorization);
    expect(verifySigV4(withAuth(auth.replace(/Credential=[^,]+/, "Credential=AKIDEXAMPLE/us-east-1")), lookup)).toMatchObject({ ok: false, code: "IncompleteSignature" });
    expect(verifySigV4(withAuth(auth.replace("SignedHeaders=", "SignedHeaders=x-custom;").replace(";host", "")), lookup).ok).toBe(false);
    expect(verifySigV4({ ...request, query: "X-Amz-Signature=abc" }, lookup)).toMatchObject({ ok: false, code: "IncompleteSignature", message: expect.stringContaining("not both") });
    expect(verifySigV4({ ...request, query: "a=%zz" }, lookup)).toMatchObject({ ok: false, code: "IncompleteSignature", message: expect.stringContaining("percent") });
  });
});

describe("query auth (presigned)", () => {
  const s3 = new S3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials, forcePathStyle: true });
  const toRequest = (url: string, method = "GET"): SignedRequest => {
    const u = new URL(url);
    return { method, path: u.pathname, query: u.search.slice(1), headers: { host: u.host }, body: Buffer.alloc(0) };
  };

  it("accepts an S3 GetObject URL from s3-request-presigner until it expires", async () => {
    const signedAt = new Date();
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "mars-images", Key: "images/curiosity/1 ü+~!.bmp" }), { expiresIn: 900 });
    const request = toRequest(url);
    expect(verifySigV4(request, lookup)).toMatchObject({ ok: true, service: "s3", region: "us-east-1" });
    expect(verifySigV4(request, lookup, { now: new Date(signedAt.getTime() + 899_000) }).ok).toBe(true);
    expect(verifySigV4(request, lookup, { now: new Date(signedAt.getTime() + 901_000) })).toMatchObject({
      ok: false,
      code: "SignatureExpired",
      message: expect.stringContaining("Request has expired"),
    });
  });

  it("refuses a presigned URL for another key, another host, a changed expiry or another method", async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "mars-images", Key: "images/a.bmp" }), { expiresIn: 900 });
    const request = toRequest(url);
    expect(verifySigV4({ ...request, path: "/mars-images/images/b.bmp" }, lookup)).toMatchObject({ ok: false, code: "InvalidSignature" });
    expect(verifySigV4({ ...request, headers: { host: "127.0.0.1:10" } }, lookup)).toMatchObject({ ok: false, code: "InvalidSignature" });
    expect(verifySigV4({ ...request, query: request.query.replace("X-Amz-Expires=900", "X-Amz-Expires=3600") }, lookup)).toMatchObject({ ok: false, code: "InvalidSignature" });
    expect(verifySigV4({ ...request, method: "DELETE" }, lookup)).toMatchObject({ ok: false, code: "InvalidSignature" });
    expect(verifySigV4({ ...request, query: request.query.replace("X-Amz-Expires=900", "X-Amz-Expires=999999") }, lookup)).toMatchObject({
      ok: false,
      code: "IncompleteSignature",
      message: expect.stringContaining("X-Amz-Expires"),
    });
  });

  it("accepts a presigned execute-api request, whose body is signed", async () => {
    const signer = new SignatureV4({ service: "execute-api", region: "eu-west-1", credentials, sha256: Hash.bind(null, "sha256") });
    const presigned = await signer.presign(
      { method: "POST", protocol: "https:", hostname: "h.example", path: "/prod/a%20b", query: { q: "1" }, headers: { host: "h.example" }, body: "payload" },
      { expiresIn: 60 },
    );
    const query = new URLSearchParams(presigned.query as Record<string, string>).toString().replace(/\+/g, "%20");
    const request = { method: "POST", path: presigned.path, query, headers: presigned.headers, body: Buffer.from("payload") };
    expect(verifySigV4(request, lookup)).toMatchObject({ ok: true, service: "execute-api", region: "eu-west-1" });
    expect(verifySigV4({ ...request, body: Buffer.from("other") }, lookup)).toMatchObject({ ok: false, code: "InvalidSignature" });
  });
});

describe("what the S3 client really sends", () => {
  let server: Server;
  let endpoint: string;
  const received: SignedRequest[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const [path, query = ""] = (req.url ?? "/").split(/\?(.*)/s);
        received.push({ method: req.method!, path, query, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { etag: '"0"' });
        res.end();
      });
    });
    endpoint = `http://127.0.0.1:${await listenOnLoopback(server)}`;
  });
  afterAll(() => closeServer(server));

  it("verifies a PutObject with checksum headers and a key that needs encoding, and refuses a swapped body", async () => {
    const client = new S3Client({ region: "us-west-2", endpoint, credentials, forcePathStyle: true });
    await client.send(new PutObjectCommand({ Bucket: "b", Key: "dir/a b+c=ü.bmp", Body: Buffer.from("BM pixels"), ContentType: "image/bmp" }));
    const put = received.at(-1)!;
    expect(put.path).toBe("/b/dir/a%20b%2Bc%3D%C3%BC.bmp");
    expect(verifySigV4(put, lookup)).toMatchObject({ ok: true, service: "s3", region: "us-west-2" });
    expect(verifySigV4({ ...put, body: Buffer.from("BM other!") }, lookup)).toMatchObject({
      ok: false,
      code: "InvalidSignature",
      message: expect.stringContaining("XAmzContentSHA256Mismatch"),
    });
  });
});
