// The S3 REST protocol over S3State, path-style (`/<bucket>/<key>`), on loopback. Every request
// must be signed with SigV4 (header or presigned query) by known credentials: the buckets the
// platform creates are private, and this emulator has no ACLs or bucket policies that could make
// one public, so an anonymous request is refused as S3 refuses it for a private bucket.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { crc32 } from "node:zlib";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";
import { verifySigV4, type CredentialLookup, type VerificationFailureCode } from "../lib/sigv4";
import { S3Error, type ChecksumAlgorithm, type S3ObjectInfo, type S3State } from "./state";

export interface S3Principal {
  accessKeyId: string;
}

/**
 * Whether a signed request may do `action` (`s3:GetObject`, ...) on `resource`
 * (`arn:aws:s3:::bucket/key`); the local cloud plugs its IAM policy evaluation in here.
 */
export type S3Authorizer = (principal: S3Principal, action: string, resource: string) => boolean;

export interface S3ServerOptions {
  state: S3State;
  credentials: CredentialLookup;
  /** Default: every signed request by known credentials is allowed. */
  authorize?: S3Authorizer;
  port?: number;
  /** The clock signatures and presigned URLs are checked against. */
  now?: () => Date;
  /** Largest object body accepted; S3 takes 5 GB in one PUT, the local cloud keeps objects in memory. */
  maxObjectBytes?: number;
}

export interface RunningS3Server {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL_S3` is set to. */
  endpoint: string;
  stop(): Promise<void>;
}

const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
/** Query parameters that are not sub-resources: authentication, SDK bookkeeping, response overrides. */
const NEUTRAL_PARAMETER = /^(x-amz-|x-id$|response-)/i;
const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "content-type",
  "response-content-language": "content-language",
  "response-expires": "expires",
  "response-cache-control": "cache-control",
  "response-content-disposition": "content-disposition",
  "response-content-encoding": "content-encoding",
};
const CHECKSUM_HEADERS: Record<string, ChecksumAlgorithm> = {
  "x-amz-checksum-crc32": "CRC32",
  "x-amz-checksum-sha1": "SHA1",
  "x-amz-checksum-sha256": "SHA256",
};
const AUTH_ERRORS: Record<VerificationFailureCode, { code: string; status: number }> = {
  MissingAuthenticationToken: { code: "AccessDenied", status: 403 },
  IncompleteSignature: { code: "AuthorizationHeaderMalformed", status: 400 },
  InvalidSignature: { code: "SignatureDoesNotMatch", status: 403 },
  SignatureExpired: { code: "AccessDenied", status: 403 },
  UnknownAccessKey: { code: "InvalidAccessKeyId", status: 403 },
  ExpiredToken: { code: "ExpiredToken", status: 400 },
};

interface S3Request {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  principal: S3Principal;
  presigned: boolean;
}

export async function startS3Server(options: S3ServerOptions): Promise<RunningS3Server> {
  const server = createServer((request, response) => {
    const requestId = randomBytes(8).toString("hex").toUpperCase();
    response.setHeader("x-amz-request-id", requestId);
    response.setHeader("x-amz-id-2", randomBytes(24).toString("base64"));
    handle(options, request, response).catch((error) => sendError(request, response, error, requestId));
  });
  const port = await listenOnLoopback(server, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}

async function handle(options: S3ServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = request.url ?? "/";
  const queryStart = url.indexOf("?");
  const rawPath = queryStart < 0 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? "" : url.slice(queryStart + 1);
  const body = await readBody(request, options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES);

  const verification = verifySigV4(
    { method: request.method ?? "GET", path: rawPath, query: rawQuery, headers: request.headers, body },
    options.credentials,
    { now: options.now?.() ?? new Date() },
  );
  const presigned = /[?&]X-Amz-Signature=/.test(`?${rawQuery}`);
  if (!verification.ok) {
    const mapped = AUTH_ERRORS[verification.code];
    const code = presigned && mapped.code === "AuthorizationHeaderMalformed" ? "AuthorizationQueryParametersError" : mapped.code;
    throw new S3Error(code, verification.message, mapped.status);
  }
  if (verification.service !== "s3") {
    throw new S3Error("AuthorizationHeaderMalformed", `The request is signed for service "${verification.service}"; S3 expects "s3"`, 400);
  }

  const [bucket, key] = splitPath(rawPath);
  const s3Request: S3Request = {
    method: request.method ?? "GET",
    bucket,
    key,
    query: new URLSearchParams(rawQuery),
    headers: request.headers,
    body,
    principal: { accessKeyId: verification.accessKeyId },
    presigned,
  };
  if (bucket && !(s3Request.method === "PUT" && key === undefined)) {
    const region = options.state.getBucket(bucket).region;
    if (region !== verification.region) {
      throw new S3Error(
        presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed",
        `The authorization header is malformed; the region '${verification.region}' is wrong; expecting '${region}'`,
        400,
        { Region: region },
      );
    }
  }
  const subresources = [...s3Request.query.keys()].filter((name) => !NEUTRAL_PARAMETER.test(name));
  await route(options, s3Request, verification.region, subresources, response);
}

async function route(
  options: S3ServerOptions,
  request: S3Request,
  region: string,
  subresources: string[],
  response: ServerResponse,
): Promise<void> {
  const { state } = options;
  const { method, bucket, key } = request;
  const authorize = (action: string, resource: string) => {
    if (options.authorize && !options.authorize(request.principal, action, resource)) {
      throw new S3Error("AccessDenied", `User ${request.principal.accessKeyId} is not authorized to perform: ${action} on resource: ${resource}`, 403);
    }
  };
  if (!bucket) throw new S3Error("NotImplemented", `${method} / (ListBuckets) is not emulated by the local cloud`, 501);
  const bucketArn = `arn:aws:s3:::${bucket}`;

  if (key === undefined) {
    const sub = subresources.join(",");
    if (method === "PUT" && sub === "") {
      authorize("s3:CreateBucket", bucketArn);
      const constraint = /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(request.body.toString("utf8"))?.[1];
      if ((constraint || "us-east-1") !== region) {
        throw new S3Error(
          "IllegalLocationConstraintException",
          constraint
            ? `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to (${region})`
            : `The unspecified location constraint is incompatible for the region specific endpoint this request was sent to (${region})`,
          400,
        );
      }
      state.createBucket(bucket, region);
      return send(response, 200, { location: `/${bucket}` });
    }
    if (method === "DELETE" && sub === "") {
      authorize("s3:DeleteBucket", bucketArn);
      state.deleteBucket(bucket);
      return send(response, 204);
    }
    if (method === "HEAD" && sub === "") {
      authorize("s3:ListBucket", bucketArn);
      state.getBucket(bucket);
      return send(response, 200, { "x-amz-bucket-region": region });
    }
    if (method === "GET" && sub === "publicAccessBlock") {
      authorize("s3:GetBucketPublicAccessBlock", bucketArn);
      const c = state.getPublicAccessBlock(bucket);
      return sendXml(response, "PublicAccessBlockConfiguration", {
        BlockPublicAcls: c.blockPublicAcls,
        IgnorePublicAcls: c.ignorePublicAcls,
        BlockPublicPolicy: c.blockPublicPolicy,
        RestrictPublicBuckets: c.restrictPublicBuckets,
      });
    }
    if (method === "GET" && sub === "encryption") {
      authorize("s3:GetEncryptionConfiguration", bucketArn);
      const e = state.getBucketEncryption(bucket);
      const sse = `<SSEAlgorithm>${e.algorithm}</SSEAlgorithm>${e.kmsKeyId ? `<KMSMasterKeyID>${xmlEscape(e.kmsKeyId)}</KMSMasterKeyID>` : ""}`;
      return sendRawXml(
        response,
        `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault>${sse}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>${e.bucketKeyEnabled}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`,
      );
    }
    throw notImplemented(method, sub ? `?${sub} on a bucket` : "on a bucket");
  }

  const objectArn = `${bucketArn}/${key}`;
  if (subresources.length > 0) throw notImplemented(method, `?${subresources.join(",")} on an object`);
  switch (method) {
    case "PUT": {
      if (request.headers["x-amz-copy-source"]) throw notImplemented(method, "with x-amz-copy-source (CopyObject)");
      authorize("s3:PutObject", objectArn);
      const { body, checksums } = objectBody(request);
      const info = state.putObject(bucket, key, body, {
        contentType: header(request, "content-type"),
        cacheControl: header(request, "cache-control"),
        metadata: metadataOf(request.headers),
        checksums,
      });
      return send(response, 200, { etag: info.etag, ...encryptionHeaders(info), ...checksumHeaders(info) });
    }
    case "GET":
    case "HEAD": {
      authorize("s3:GetObject", objectArn);
      let object;
      try {
        object = state.getObject(bucket, key);
      } catch (error) {
        // Without s3:ListBucket S3 does not tell a missing key from a forbidden one.
        if (error instanceof S3Error && error.code === "NoSuchKey" && options.authorize && !options.authorize(request.principal, "s3:ListBucket", bucketArn)) {
          throw new S3Error("AccessDenied", "Access Denied", 403);
        }
        throw error;
      }
      const range = parseRange(header(request, "range"), object.size);
      const checksumMode = header(request, "x-amz-checksum-mode") ?? request.query.get("x-amz-checksum-mode");
      const headers: Record<string, string> = {
        "content-type": object.contentType,
        etag: object.etag,
        "last-modified": new Date(object.lastModified).toUTCString(),
        "accept-ranges": "bytes",
        ...(object.cacheControl ? { "cache-control": object.cacheControl } : {}),
        ...Object.fromEntries(Object.entries(object.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value])),
        ...encryptionHeaders(object),
        ...(checksumMode === "ENABLED" && !range ? checksumHeaders(object) : {}),
      };
      for (const [parameter, name] of Object.entries(RESPONSE_OVERRIDES)) {
        const value = request.query.get(parameter);
        if (value !== null) headers[name] = value;
      }
      const body = range ? object.body.subarray(range.start, range.end + 1) : object.body;
      if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${object.size}`;
      headers["content-length"] = String(body.length);
      response.writeHead(range ? 206 : 200, headers);
      response.end(method === "HEAD" ? undefined : body);
      return;
    }
    case "DELETE":
      authorize("s3:DeleteObject", objectArn);
      state.deleteObject(bucket, key);
      return send(response, 204);
    default:
      throw notImplemented(method, "on an object");
  }
}

/**
 * Reads the body up to `limit` bytes. A larger body is drained, not kept, so that the client
 * gets the EntityTooLarge answer instead of a connection reset in the middle of its upload.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on("end", () =>
      size <= limit
        ? resolve(Buffer.concat(chunks))
        : reject(new S3Error("EntityTooLarge", `Your proposed upload of ${size} bytes exceeds the maximum allowed size of ${limit} bytes`, 400)),
    );
    request.on("error", reject);
  });
}

/** `/bucket/some/key` -> ["bucket", "some/key"]; the key is decoded once, as S3 does. */
function splitPath(rawPath: string): [string | undefined, string | undefined] {
  const path = rawPath.replace(/^\/+/, "");
  if (path === "") return [undefined, undefined];
  const slash = path.indexOf("/");
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new S3Error("InvalidURI", `Couldn't parse the specified URI: ${rawPath}`, 400);
    }
  };
  if (slash < 0 || slash === path.length - 1) return [decode(path.replace(/\/$/, "")), undefined];
  return [decode(path.slice(0, slash)), decode(path.slice(slash + 1))];
}

/** The object bytes of a PUT, unwrapped from aws-chunked when the SDK streamed them, with verified checksums. */
function objectBody(request: S3Request): { body: Buffer; checksums: Partial<Record<ChecksumAlgorithm, string>> } {
  const chunked = header(request, "x-amz-content-sha256") === "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  const { body, trailers } = chunked ? decodeAwsChunked(request.body) : { body: request.body, trailers: {} };
  if (chunked) {
    const declared = Number(header(request, "x-amz-decoded-content-length"));
    if (declared !== body.length) {
      throw new S3Error("IncompleteBody", `x-amz-decoded-content-length says ${declared} bytes, the chunks hold ${body.length}`, 400);
    }
  }
  const md5 = header(request, "content-md5");
  if (md5 !== undefined && md5 !== createHash("md5").update(body).digest("base64")) {
    throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.", 400);
  }
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  const given = { ...Object.fromEntries(Object.entries(request.headers).map(([n, v]) => [n, String(v)])), ...trailers };
  for (const [name, value] of Object.entries(given)) {
    if (!name.startsWith("x-amz-checksum-")) continue;
    const algorithm = CHECKSUM_HEADERS[name];
    if (!algorithm) {
      throw new S3Error("NotImplemented", `${name} is not verified by the local cloud; use CRC32, SHA1 or SHA256 checksums`, 501);
    }
    if (checksum(algorithm, body) !== value) {
      throw new S3Error("BadDigest", `The ${algorithm} you specified did not match the calculated checksum.`, 400);
    }
    checksums[algorithm] = value;
  }
  return { body, checksums };
}

function checksum(algorithm: ChecksumAlgorithm, body: Buffer): string {
  if (algorithm === "CRC32") {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(crc32(body) >>> 0);
    return value.toString("base64");
  }
  return createHash(algorithm === "SHA1" ? "sha1" : "sha256").update(body).digest("base64");
}

/** `<hex size>\r\n<bytes>\r\n ... 0\r\n<trailer>: <value>\r\n\r\n` */
function decodeAwsChunked(raw: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const chunks: Buffer[] = [];
  let offset = 0;
  const line = () => {
    const end = raw.indexOf("\r\n", offset);
    if (end < 0) throw new S3Error("IncompleteBody", "The aws-chunked body ends in the middle of a chunk header", 400);
    const text = raw.subarray(offset, end).toString("latin1");
    offset = end + 2;
    return text;
  };
  for (;;) {
    const size = parseInt(line().split(";")[0], 16);
    if (!Number.isInteger(size) || size < 0) throw new S3Error("InvalidArgument", "The aws-chunked body has a malformed chunk size", 400);
    if (size === 0) break;
    if (offset + size + 2 > raw.length) throw new S3Error("IncompleteBody", "The aws-chunked body ends in the middle of a chunk", 400);
    chunks.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (let text = line(); text !== ""; text = offset < raw.length ? line() : "") {
    const colon = text.indexOf(":");
    if (colon > 0) trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(chunks), trailers };
}

function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  // S3 ignores a Range header it cannot parse (multiple ranges included) and sends the whole object.
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  const range =
    m[1] === ""
      ? { start: Math.max(0, size - Number(m[2])), end: size - 1 }
      : { start: Number(m[1]), end: m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1) };
  if (range.start >= size || range.start > range.end) {
    throw new S3Error("InvalidRange", "The requested range is not satisfiable", 416, { RangeRequested: value, ActualObjectSize: String(size) });
  }
  return range;
}

function header(request: S3Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function metadataOf(headers: IncomingMessage["headers"]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name.startsWith("x-amz-meta-"))
      .map(([name, value]) => [name.slice("x-amz-meta-".length), String(value)]),
  );
}

function encryptionHeaders(object: S3ObjectInfo): Record<string, string> {
  const { algorithm, kmsKeyId, bucketKeyEnabled } = object.encryption;
  return {
    "x-amz-server-side-encryption": algorithm,
    ...(algorithm !== "AES256" && kmsKeyId ? { "x-amz-server-side-encryption-aws-kms-key-id": kmsKeyId } : {}),
    ...(algorithm !== "AES256" && bucketKeyEnabled ? { "x-amz-server-side-encryption-bucket-key-enabled": "true" } : {}),
  };
}

function checksumHeaders(object: S3ObjectInfo): Record<string, string> {
  return Object.fromEntries(
    Object.entries(object.checksums).map(([algorithm, value]) => [`x-amz-checksum-${algorithm.toLowerCase()}`, value]),
  );
}

function notImplemented(method: string, what: string): S3Error {
  return new S3Error("NotImplemented", `${method} ${what} is not emulated by the local cloud`, 501);
}

function send(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...headers, "content-length": "0" });
  response.end();
}

function sendXml(response: ServerResponse, root: string, fields: Record<string, string | boolean>): void {
  const inner = Object.entries(fields)
    .map(([name, value]) => `<${name}>${xmlEscape(String(value))}</${name}>`)
    .join("");
  sendRawXml(response, `<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`);
}

function sendRawXml(response: ServerResponse, xml: string, status = 200): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  response.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function sendError(request: IncomingMessage, response: ServerResponse, error: unknown, requestId: string): void {
  const e = error instanceof S3Error ? error : new S3Error("InternalError", `We encountered an internal error: ${(error as Error).message}`, 500);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  // HEAD responses carry no body: the SDK reads the code from the status alone.
  if (request.method === "HEAD") {
    response.writeHead(e.statusCode, { "x-amz-error-code": e.code, "x-amz-error-message": e.message.replace(/[^\x20-\x7e]/g, "?") });
    response.end();
    return;
  }
  const details = Object.entries(e.details).map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`).join("");
  sendRawXml(
    response,
    `<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message>${details}<RequestId>${requestId}</RequestId><HostId>${xmlEscape(String(response.getHeader("x-amz-id-2")))}</HostId></Error>`,
    e.statusCode,
  );
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
