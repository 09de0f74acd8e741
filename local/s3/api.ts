// S3's REST protocol behind the edge, path-style (`/<bucket>/<key>`), over S3State. The edge has
// verified the signature (header or presigned query) and asks `requirements` which permission a
// request needs (the S3 action on the bucket or object ARN, as the S3 Service Authorization
// Reference names them); bucket policies are S3's resource policies. S3 never says why it refused:
// a denied call is "Access Denied", and a missing key reads as 403 to a caller who may not list
// the bucket.
import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { xmlEscape } from "../lib/aws-protocols";
import type { HttpRequest, HttpResponse } from "../lib/http-serve";
import type { PolicyDocument } from "../iam/evaluator";
import type { EdgeCall, EdgeService, Requirement, ResourcePolicy } from "../edge/types";
import { S3Error, type ChecksumAlgorithm, type S3ObjectInfo, type S3State } from "./state";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
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
/** Largest object body accepted; S3 takes 5 GB in one PUT, the local cloud keeps objects in memory. */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;

interface S3Operation {
  action: string;
  resource: string;
  run(): HttpResponse;
}

export class S3Api implements EdgeService {
  readonly protocol = { kind: "s3" } as const;
  readonly global = true;

  constructor(
    private readonly state: S3State,
    private readonly maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES,
  ) {}

  requirements(call: EdgeCall): Requirement[] {
    const operation = this.operation(call);
    return [{ action: operation.action, resource: operation.resource }];
  }

  /** The bucket policy of the bucket a resource ARN is in. */
  resourcePolicy(resource: string): ResourcePolicy | undefined {
    const name = /^arn:aws:s3:::([^/]+)/.exec(resource)?.[1];
    const policy = name ? this.state.listBuckets().find((b) => b.name === name)?.policy : undefined;
    return policy ? { documents: [JSON.parse(policy) as PolicyDocument] } : undefined;
  }

  async handle(call: EdgeCall): Promise<HttpResponse> {
    try {
      const response = this.operation(call).run();
      return { ...response, headers: { ...response.headers, "x-amz-request-id": randomBytes(8).toString("hex").toUpperCase(), "x-amz-id-2": randomBytes(24).toString("base64") } };
    } catch (error) {
      // HEAD answers carry no body: the SDK reads the code from the status and these headers.
      if (error instanceof S3Error && call.request.method === "HEAD") {
        return { status: error.statusCode, headers: { "x-amz-error-code": error.code, "x-amz-error-message": error.message.replace(/[^\x20-\x7e]/g, "?") } };
      }
      throw error;
    }
  }

  /** What a request asks for, and how to answer it; throws S3's error for what S3 refuses before IAM. */
  private operation(call: EdgeCall): S3Operation {
    const { request } = call;
    if (request.body.length > this.maxObjectBytes) {
      throw new S3Error("EntityTooLarge", `Your proposed upload of ${request.body.length} bytes exceeds the maximum allowed size of ${this.maxObjectBytes} bytes`, 400);
    }
    const [bucket, key] = splitPath(request.rawPath);
    const query = new URLSearchParams(request.rawQuery);
    const presigned = query.has("X-Amz-Signature");
    const method = request.method;
    const subresources = [...query.keys()].filter((name) => !NEUTRAL_PARAMETER.test(name));
    const sub = subresources.join(",");
    const region = call.region;
    if (bucket && !(method === "PUT" && key === undefined)) {
      const bucketRegion = this.state.getBucket(bucket).region;
      if (bucketRegion !== region) {
        throw new S3Error(
          presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed",
          `The authorization header is malformed; the region '${region}' is wrong; expecting '${bucketRegion}'`,
          400,
          { Region: bucketRegion },
        );
      }
    }
    const { state } = this;
    if (!bucket) {
      if (method === "GET") return { action: "s3:ListAllMyBuckets", resource: "*", run: () => listBuckets(state, call) };
      throw notImplemented(method, "/");
    }
    const bucketArn = `arn:aws:s3:::${bucket}`;
    if (key === undefined) {
      if (method === "PUT" && sub === "") {
        return {
          action: "s3:CreateBucket",
          resource: bucketArn,
          run: () => {
            const constraint = /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(request.body.toString("utf8"))?.[1];
            if ((constraint || "us-east-1") !== region) {
              throw new S3Error(
                "IllegalLocationConstraintException",
                `The ${constraint ? `${constraint} location constraint` : "unspecified location constraint"} is incompatible for the region specific endpoint this request was sent to (${region})`,
                400,
              );
            }
            state.createBucket(bucket, region);
            return empty(200, { location: `/${bucket}` });
          },
        };
      }
      if (method === "DELETE" && sub === "") return { action: "s3:DeleteBucket", resource: bucketArn, run: () => (state.deleteBucket(bucket), empty(204)) };
      if (method === "HEAD" && sub === "") return { action: "s3:ListBucket", resource: bucketArn, run: () => (state.getBucket(bucket), empty(200, { "x-amz-bucket-region": region })) };
      if (method === "GET" && (sub === "" || sub === "list-type" || sub.split(",").every((p) => ["list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner"].includes(p)))) {
        return { action: "s3:ListBucket", resource: bucketArn, run: () => listObjects(state, bucket, query) };
      }
      if (method === "GET" && sub === "publicAccessBlock") {
        return {
          action: "s3:GetBucketPublicAccessBlock",
          resource: bucketArn,
          run: () => {
            const c = state.getPublicAccessBlock(bucket);
            return xml(200, `<PublicAccessBlockConfiguration xmlns="${S3_NS}">${fields({ BlockPublicAcls: c.blockPublicAcls, IgnorePublicAcls: c.ignorePublicAcls, BlockPublicPolicy: c.blockPublicPolicy, RestrictPublicBuckets: c.restrictPublicBuckets })}</PublicAccessBlockConfiguration>`);
          },
        };
      }
      if (method === "GET" && sub === "encryption") {
        return {
          action: "s3:GetEncryptionConfiguration",
          resource: bucketArn,
          run: () => {
            const e = state.getBucketEncryption(bucket);
            const sse = `<SSEAlgorithm>${e.algorithm}</SSEAlgorithm>${e.kmsKeyId ? `<KMSMasterKeyID>${xmlEscape(e.kmsKeyId)}</KMSMasterKeyID>` : ""}`;
            return xml(200, `<ServerSideEncryptionConfiguration xmlns="${S3_NS}"><Rule><ApplyServerSideEncryptionByDefault>${sse}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>${e.bucketKeyEnabled}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`);
          },
        };
      }
      throw notImplemented(method, sub ? `?${sub} on a bucket` : "on a bucket");
    }

    const objectArn = `${bucketArn}/${key}`;
    if (subresources.length > 0) throw notImplemented(method, `?${sub} on an object`);
    switch (method) {
      case "PUT":
        if (request.headers["x-amz-copy-source"]) throw notImplemented(method, "with x-amz-copy-source (CopyObject)");
        return {
          action: "s3:PutObject",
          resource: objectArn,
          run: () => {
            const { body, checksums } = objectBody(request);
            const info = state.putObject(bucket, key, body, {
              contentType: header(request, "content-type"),
              cacheControl: header(request, "cache-control"),
              metadata: metadataOf(request.headers),
              checksums,
            });
            return empty(200, { etag: info.etag, ...encryptionHeaders(info), ...checksumHeaders(info) });
          },
        };
      case "GET":
      case "HEAD":
        return { action: "s3:GetObject", resource: objectArn, run: () => getObject(state, call, bucket, key, query) };
      case "DELETE":
        return { action: "s3:DeleteObject", resource: objectArn, run: () => (state.deleteObject(bucket, key), empty(204)) };
      default:
        throw notImplemented(method, "on an object");
    }
  }
}

function getObject(state: S3State, call: EdgeCall, bucket: string, key: string, query: URLSearchParams): HttpResponse {
  let object;
  try {
    object = state.getObject(bucket, key);
  } catch (error) {
    // Without s3:ListBucket S3 does not tell a missing key from a forbidden one.
    if (error instanceof S3Error && error.code === "NoSuchKey" && !call.allowed("s3:ListBucket", `arn:aws:s3:::${bucket}`)) {
      throw new S3Error("AccessDenied", "Access Denied", 403);
    }
    throw error;
  }
  const range = parseRange(header(call.request, "range"), object.size);
  const checksumMode = header(call.request, "x-amz-checksum-mode") ?? query.get("x-amz-checksum-mode");
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
    const value = query.get(parameter);
    if (value !== null) headers[name] = value;
  }
  const body = range ? object.body.subarray(range.start, range.end + 1) : object.body;
  if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${object.size}`;
  return { status: range ? 206 : 200, headers, body };
}

/** ListBuckets: the buckets the caller's account owns; the local cloud's buckets are all shown. */
function listBuckets(state: S3State, call: EdgeCall): HttpResponse {
  const buckets = state
    .listBuckets()
    .map((b) => `<Bucket><Name>${xmlEscape(b.name)}</Name><CreationDate>${new Date(b.createdAt).toISOString()}</CreationDate><BucketRegion>${b.region}</BucketRegion></Bucket>`)
    .join("");
  const owner = call.caller ? `<Owner><ID>${call.caller.accountId}</ID></Owner>` : "";
  return xml(200, `<ListAllMyBucketsResult xmlns="${S3_NS}">${owner}<Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`);
}

/** ListObjectsV2 (and V1's shape for the same keys): prefix, delimiter, max-keys, continuation. */
function listObjects(state: S3State, bucket: string, query: URLSearchParams): HttpResponse {
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get("max-keys") ?? 1000) || 0));
  const after = query.get("continuation-token") ?? query.get("start-after") ?? "";
  const contents: string[] = [];
  const prefixes = new Set<string>();
  let truncated = false;
  let last = "";
  for (const object of state.listObjects(bucket, prefix)) {
    if (after && Buffer.compare(Buffer.from(object.key), Buffer.from(after)) <= 0) continue;
    const rest = object.key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (contents.length + prefixes.size >= maxKeys) {
      truncated = true;
      break;
    }
    if (cut >= 0) prefixes.add(prefix + rest.slice(0, cut + delimiter.length));
    else contents.push(`<Contents><Key>${xmlEscape(object.key)}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified><ETag>${xmlEscape(object.etag)}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    last = object.key;
  }
  const v2 = query.get("list-type") === "2";
  return xml(
    200,
    `<ListBucketResult xmlns="${S3_NS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
      (v2 ? `<KeyCount>${contents.length + prefixes.size}</KeyCount>` : "") +
      `<MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : ""}<IsTruncated>${truncated}</IsTruncated>` +
      (truncated && v2 ? `<NextContinuationToken>${xmlEscape(last)}</NextContinuationToken>` : truncated ? `<NextMarker>${xmlEscape(last)}</NextMarker>` : "") +
      contents.join("") +
      [...prefixes].map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`).join("") +
      `</ListBucketResult>`,
  );
}

function empty(status: number, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers };
}

function fields(values: Record<string, string | boolean>): string {
  return Object.entries(values).map(([name, value]) => `<${name}>${xmlEscape(String(value))}</${name}>`).join("");
}

function xml(status: number, body: string): HttpResponse {
  return { status, headers: { "content-type": "application/xml" }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` };
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
function objectBody(request: { headers: HttpRequest["headers"]; body: Buffer }): { body: Buffer; checksums: Partial<Record<ChecksumAlgorithm, string>> } {
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

function header(request: { headers: HttpRequest["headers"] }, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function metadataOf(headers: HttpRequest["headers"]): Record<string, string> {
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

