// Verifies AWS Signature Version 4 the way AWS does: the request as received is turned back into
// the canonical request (by @smithy/signature-v4, the SDK's own signer, so path, query and header
// canonicalization match what clients sign), the signature is recomputed with the caller's secret
// and compared. Both forms are accepted: the Authorization header, and query parameters
// (presigned URLs, `X-Amz-Expires`).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import {
  ALGORITHM_IDENTIFIER,
  SignatureV4Base,
  UNSIGNED_PAYLOAD,
  createScope,
  getCanonicalHeaders,
} from "@smithy/signature-v4";
import type { Checksum, HttpRequest, SourceData } from "@smithy/types";

export interface SignedRequest {
  method: string;
  /** raw path as received, percent-encoded */
  path: string;
  /** raw query string without "?" */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type CredentialLookup = (
  accessKeyId: string,
) => { secretAccessKey: string; sessionToken?: string; expiresAt?: Date } | undefined;

export type VerificationFailureCode =
  | "MissingAuthenticationToken"
  | "IncompleteSignature"
  | "InvalidSignature"
  /** Signed (Authorization header) more than 15 minutes away from the server's clock. */
  | "RequestTimeTooSkewed"
  | "SignatureExpired"
  | "UnknownAccessKey"
  | "ExpiredToken";

export type Verification =
  | { ok: true; accessKeyId: string; region: string; service: string; signedAt: Date }
  | { ok: false; code: VerificationFailureCode; message: string };

export interface VerifyOptions {
  now?: Date;
  /** How far the signing time of header-signed requests may be from `now`; AWS allows 15 minutes. */
  maxSkewMs?: number;
}

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
/** AWS refuses presigned URLs valid for longer than 7 days. */
const MAX_EXPIRES_SECONDS = 7 * 24 * 60 * 60;
const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");
const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** Unsigned aws-chunked bodies carry no chunk signatures; the signed variants would need each chunk verified. */
const ACCEPTED_STREAMING_PAYLOADS = new Set(["STREAMING-UNSIGNED-PAYLOAD-TRAILER"]);

/** SignatureV4Base needs a hash constructor; only the synchronous canonicalization is used. */
class NodeSha256 implements Checksum {
  private hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    throw new Error("not used");
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Exposes the signer's canonical request: the same code that signed the request on the client. */
class CanonicalRequest extends SignatureV4Base {
  constructor(service: string, region: string) {
    // S3 signs the path as sent; every other service signs it URI-encoded once more.
    super({ service, region, credentials: { accessKeyId: "", secretAccessKey: "" }, sha256: NodeSha256, uriEscapePath: service !== "s3" });
  }
  build(request: HttpRequest, signedHeaders: string[], payloadHash: string): string {
    // Only the headers the client signed, including ones the SDK never signs (user-agent, ...).
    const signed = { ...request, headers: Object.fromEntries(signedHeaders.map((name) => [name, request.headers[name]])) };
    const canonicalHeaders = getCanonicalHeaders(signed, undefined, new Set(signedHeaders));
    return this.createCanonicalRequest(signed, canonicalHeaders, payloadHash);
  }
}

class Refusal extends Error {
  constructor(
    readonly code: VerificationFailureCode,
    message: string,
  ) {
    super(message);
  }
}

interface Authorization {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** `YYYYMMDDTHHMMSSZ` */
  longDate: string;
  /** Seconds the signature is valid for: presigned requests only. */
  expiresSeconds?: number;
  securityToken?: string;
  /** Name of the parameter or header the signature came from, for messages. */
  source: "Authorization header" | "query string";
}

/**
 * Checks a SigV4-signed request. Never throws for bad input: every problem is a refusal with
 * the AWS error code and a message that says what to fix.
 */
export function verifySigV4(request: SignedRequest, lookup: CredentialLookup, options: VerifyOptions = {}): Verification {
  try {
    return verify(request, lookup, options.now ?? new Date(), options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

function verify(request: SignedRequest, lookup: CredentialLookup, now: Date, maxSkewMs: number): Verification {
  const headers = lowerCaseHeaders(request.headers);
  const query = parseQuery(request.query);
  const auth = readAuthorization(headers, query);
  const signedAt = parseLongDate(auth.longDate, auth.source);
  if (auth.longDate.slice(0, 8) !== auth.shortDate) {
    throw new Refusal(
      "InvalidSignature",
      `Date in the credential scope (${auth.shortDate}) does not match the signing date ${auth.longDate}`,
    );
  }
  checkTime(auth, signedAt, now, maxSkewMs);

  const credentials = lookup(auth.accessKeyId);
  if (!credentials) {
    throw new Refusal("UnknownAccessKey", `The AWS access key id ${auth.accessKeyId} does not exist in our records`);
  }
  if (credentials.expiresAt && credentials.expiresAt.getTime() <= now.getTime()) {
    throw new Refusal("ExpiredToken", `The security token of access key ${auth.accessKeyId} expired at ${credentials.expiresAt.toISOString()}`);
  }
  if ((credentials.sessionToken ?? undefined) !== auth.securityToken) {
    throw new Refusal(
      "InvalidSignature",
      credentials.sessionToken
        ? `Access key ${auth.accessKeyId} is temporary: the request must carry its session token (X-Amz-Security-Token)`
        : `The security token included in the request is invalid for access key ${auth.accessKeyId}`,
    );
  }

  const missing = auth.signedHeaders.filter((name) => headers[name] === undefined);
  if (missing.length > 0) {
    throw new Refusal("IncompleteSignature", `Signed headers are missing from the request: ${missing.join(", ")}`);
  }

  const canonicalRequest = new CanonicalRequest(auth.service, auth.region).build(
    { method: request.method.toUpperCase(), path: request.path || "/", query, headers, protocol: "http:", hostname: "" },
    auth.signedHeaders,
    payloadHash(auth, headers, query, request.body),
  );
  const scope = createScope(auth.shortDate, auth.region, auth.service);
  const stringToSign = [ALGORITHM_IDENTIFIER, auth.longDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const expected = hmac(signingKey(credentials.secretAccessKey, auth.shortDate, auth.region, auth.service), stringToSign);
  const given = Buffer.from(auth.signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Refusal(
      "InvalidSignature",
      "The request signature we calculated does not match the signature you provided. Check your AWS secret access key and signing method.",
    );
  }
  return { ok: true, accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service, signedAt };
}

function readAuthorization(headers: Record<string, string>, query: Record<string, string | string[]>): Authorization {
  const header = headers.authorization;
  const queryAuth = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"].some((name) => name in query);
  if (header !== undefined && queryAuth) {
    throw new Refusal("IncompleteSignature", "Only one authentication mechanism is allowed: the Authorization header or X-Amz-* query parameters, not both");
  }
  if (header !== undefined) return headerAuthorization(header, headers);
  if (queryAuth) return queryAuthorization(query);
  throw new Refusal("MissingAuthenticationToken", "The request is not signed: it has no Authorization header and no X-Amz-Signature query parameter");
}

function headerAuthorization(header: string, headers: Record<string, string>): Authorization {
  const [algorithm, ...rest] = header.trim().split(/\s+/);
  if (algorithm !== ALGORITHM_IDENTIFIER) {
    throw new Refusal("IncompleteSignature", `Unsupported authorization algorithm "${algorithm}": expected ${ALGORITHM_IDENTIFIER}`);
  }
  const fields = new Map<string, string>();
  for (const part of rest.join(" ").split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    throw new Refusal("IncompleteSignature", `Authorization header is missing ${missing.join(", ")}`);
  }
  const longDate = headers["x-amz-date"] ?? fromHttpDate(headers.date);
  if (!longDate) throw new Refusal("IncompleteSignature", "Authorization header given but neither X-Amz-Date nor Date header is present");
  return {
    ...credentialScope(fields.get("Credential")!, "Authorization header"),
    signedHeaders: signedHeaderList(fields.get("SignedHeaders")!),
    signature: signatureHex(fields.get("Signature")!),
    longDate,
    securityToken: headers["x-amz-security-token"],
    source: "Authorization header",
  };
}

function queryAuthorization(query: Record<string, string | string[]>): Authorization {
  const value = (name: string): string => {
    const v = query[name];
    if (v === undefined) throw new Refusal("IncompleteSignature", `Query-string authentication requires the ${name} parameter`);
    if (Array.isArray(v)) throw new Refusal("IncompleteSignature", `The ${name} parameter is given more than once`);
    return v;
  };
  const algorithm = value("X-Amz-Algorithm");
  if (algorithm !== ALGORITHM_IDENTIFIER) {
    throw new Refusal("IncompleteSignature", `Unsupported X-Amz-Algorithm "${algorithm}": expected ${ALGORITHM_IDENTIFIER}`);
  }
  const expires = value("X-Amz-Expires");
  const expiresSeconds = /^[0-9]{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_EXPIRES_SECONDS)) {
    throw new Refusal("IncompleteSignature", `X-Amz-Expires must be a number of seconds from 1 to ${MAX_EXPIRES_SECONDS}, got "${expires}"`);
  }
  const token = query["X-Amz-Security-Token"];
  return {
    ...credentialScope(value("X-Amz-Credential"), "query string"),
    signedHeaders: signedHeaderList(value("X-Amz-SignedHeaders")),
    signature: signatureHex(value("X-Amz-Signature")),
    longDate: value("X-Amz-Date"),
    expiresSeconds,
    securityToken: Array.isArray(token) ? token[0] : token,
    source: "query string",
  };
}

function credentialScope(credential: string, source: Authorization["source"]) {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts.some((p) => p === "") || parts[4] !== "aws4_request" || !/^[0-9]{8}$/.test(parts[1])) {
    throw new Refusal(
      "IncompleteSignature",
      `Credential in the ${source} must be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request, got "${credential}"`,
    );
  }
  const [accessKeyId, shortDate, region, service] = parts;
  return { accessKeyId, shortDate, region, service };
}

function signedHeaderList(value: string): string[] {
  const names = value.split(";");
  if (names.some((n) => n === "" || n !== n.toLowerCase())) {
    throw new Refusal("IncompleteSignature", `SignedHeaders must be lower-case header names separated by ";", got "${value}"`);
  }
  if (!names.includes("host")) throw new Refusal("IncompleteSignature", "SignedHeaders must include host");
  return names;
}

function signatureHex(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new Refusal("IncompleteSignature", "Signature must be 64 lower-case hex digits");
  return value;
}

function parseLongDate(longDate: string, source: Authorization["source"]): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(longDate);
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new Refusal("IncompleteSignature", `The signing date in the ${source} must be ISO 8601 basic format YYYYMMDDTHHMMSSZ, got "${longDate}"`);
  }
  return date;
}

/** `Date: Mon, 01 Jan 2024 00:00:00 GMT` -> `20240101T000000Z` (clients that sign the Date header). */
function fromHttpDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function checkTime(auth: Authorization, signedAt: Date, now: Date, maxSkewMs: number): void {
  const at = signedAt.toISOString();
  if (auth.expiresSeconds !== undefined) {
    if (signedAt.getTime() - now.getTime() > maxSkewMs) {
      throw new Refusal("SignatureExpired", `Request is not valid yet: it was signed for ${at}, now is ${now.toISOString()}`);
    }
    const expiresAt = new Date(signedAt.getTime() + auth.expiresSeconds * 1000);
    if (now.getTime() > expiresAt.getTime()) {
      throw new Refusal("SignatureExpired", `Request has expired: valid ${auth.expiresSeconds} s from ${at}, until ${expiresAt.toISOString()}; now is ${now.toISOString()}`);
    }
    return;
  }
  if (Math.abs(now.getTime() - signedAt.getTime()) > maxSkewMs) {
    throw new Refusal(
      "RequestTimeTooSkewed",
      `Signature expired: signed at ${at}, now is ${now.toISOString()}; the difference must be under ${maxSkewMs / 60000} minutes (RequestTimeTooSkewed)`,
    );
  }
}

/**
 * The hash the client put in the canonical request. A hex hash declared in x-amz-content-sha256
 * must be the body's: otherwise a signed header would vouch for a body that was swapped.
 */
function payloadHash(
  auth: Authorization,
  headers: Record<string, string>,
  query: Record<string, string | string[]>,
  body: Buffer,
): string {
  const queryDeclared = query["x-amz-content-sha256"] ?? query["X-Amz-Content-Sha256"];
  const declared = headers["x-amz-content-sha256"] ?? (Array.isArray(queryDeclared) ? queryDeclared[0] : queryDeclared);
  const bodyHash = body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
  if (declared === undefined) {
    // Presigned S3 URLs never sign the payload; every other request signs its body.
    return auth.expiresSeconds !== undefined && auth.service === "s3" ? UNSIGNED_PAYLOAD : bodyHash;
  }
  if (HEX_SHA256.test(declared)) {
    if (declared !== bodyHash) {
      throw new Refusal("InvalidSignature", "The x-amz-content-sha256 header does not match the SHA-256 of the body (XAmzContentSHA256Mismatch)");
    }
    return declared;
  }
  if (declared === UNSIGNED_PAYLOAD || ACCEPTED_STREAMING_PAYLOADS.has(declared)) return declared;
  throw new Refusal("IncompleteSignature", `x-amz-content-sha256 "${declared}" is not supported here: use a hex SHA-256, ${UNSIGNED_PAYLOAD} or ${[...ACCEPTED_STREAMING_PAYLOADS].join(", ")}`);
}

function lowerCaseHeaders(headers: SignedRequest["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  return out;
}

/** Decodes the raw query into what the signer canonicalizes (it re-encodes names and values). */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      throw new Refusal("IncompleteSignature", `The query string has a malformed percent-encoding in "${pair}"`);
    }
    const existing = query[name];
    query[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function signingKey(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
  let key: Buffer | string = `AWS4${secretAccessKey}`;
  for (const part of [shortDate, region, service, "aws4_request"]) key = hmac(key, part);
  return key as Buffer;
}
