// How each AWS wire protocol spells an error, and which error codes each service answers for a
// request it cannot authenticate or authorize. The shapes follow the AWS SDKs' protocol tests
// (awsJson1_0/1_1 `__type`, awsQuery `ErrorResponse`, restJson `x-amzn-errortype`, restXml
// `ErrorResponse` and S3's bare `Error`); the codes follow what the services answer (DynamoDB,
// Kinesis, KMS, SSM and Logs say UnrecognizedClientException / InvalidSignatureException /
// AccessDeniedException with 400, the query services InvalidClientTokenId / SignatureDoesNotMatch
// with 403, S3 InvalidAccessKeyId / SignatureDoesNotMatch / AccessDenied with 403).
import { randomBytes, randomUUID } from "node:crypto";
import type { VerificationFailureCode } from "./sigv4";
import type { HttpResponse } from "./http-serve";
import { AwsServiceError } from "./aws-wire";

export type AwsProtocol =
  | { kind: "json"; version: "1.0" | "1.1" }
  | { kind: "query"; xmlns: string }
  | { kind: "rest-json" }
  | { kind: "rest-xml"; xmlns: string }
  | { kind: "s3" };

export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
}

/** Renders an error in the protocol's shape. */
export function errorResponse(protocol: AwsProtocol, error: AwsServiceError, requestId = randomUUID()): HttpResponse {
  const status = error.statusCode;
  switch (protocol.kind) {
    case "json":
      return {
        status,
        headers: { "content-type": `application/x-amz-json-${protocol.version}`, "x-amzn-errortype": error.code, "x-amzn-requestid": requestId },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    case "rest-json":
      return {
        status,
        headers: { "content-type": "application/json", "x-amzn-errortype": error.code, "x-amzn-requestid": requestId },
        body: JSON.stringify({ Type: status >= 500 ? "Service" : "User", message: error.message, Message: error.message }),
      };
    case "query":
    case "rest-xml":
      return {
        status,
        headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
        body:
          `<ErrorResponse xmlns="${protocol.xmlns}"><Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${xmlEscape(error.code)}</Code>` +
          `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case "s3": {
      const details = Object.entries((error as AwsServiceError & { details?: Record<string, string> }).details ?? {})
        .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
        .join("");
      // S3's request ids are 16 upper-case hex digits, with a host id beside them.
      const s3RequestId = randomBytes(8).toString("hex").toUpperCase();
      const hostId = randomBytes(24).toString("base64");
      return {
        status,
        headers: { "content-type": "application/xml", "x-amz-request-id": s3RequestId, "x-amz-id-2": hostId },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message>${details}<RequestId>${s3RequestId}</RequestId><HostId>${hostId}</HostId></Error>`,
      };
    }
  }
}

interface AuthCodes {
  unknownKey: [string, number];
  badSignature: [string, number];
  missing: [string, number];
  expiredToken: [string, number];
  incomplete: [string, number];
  accessDenied: [string, number];
}

const JSON_CODES: AuthCodes = {
  unknownKey: ["UnrecognizedClientException", 400],
  badSignature: ["InvalidSignatureException", 400],
  missing: ["MissingAuthenticationTokenException", 400],
  expiredToken: ["ExpiredTokenException", 400],
  incomplete: ["IncompleteSignatureException", 400],
  accessDenied: ["AccessDeniedException", 400],
};
const REST_JSON_CODES: AuthCodes = {
  unknownKey: ["UnrecognizedClientException", 403],
  badSignature: ["InvalidSignatureException", 403],
  missing: ["MissingAuthenticationTokenException", 403],
  expiredToken: ["ExpiredTokenException", 403],
  incomplete: ["IncompleteSignatureException", 403],
  accessDenied: ["AccessDeniedException", 403],
};
const QUERY_CODES: AuthCodes = {
  unknownKey: ["InvalidClientTokenId", 403],
  badSignature: ["SignatureDoesNotMatch", 403],
  missing: ["MissingAuthenticationToken", 403],
  expiredToken: ["ExpiredToken", 403],
  incomplete: ["IncompleteSignature", 403],
  accessDenied: ["AccessDenied", 403],
};
const S3_CODES: AuthCodes = {
  unknownKey: ["InvalidAccessKeyId", 403],
  badSignature: ["SignatureDoesNotMatch", 403],
  missing: ["AccessDenied", 403],
  expiredToken: ["ExpiredToken", 400],
  incomplete: ["AuthorizationHeaderMalformed", 400],
  accessDenied: ["AccessDenied", 403],
};

/** The codes a service answers when it refuses a caller; `accessDenied` may differ per service (SNS: AuthorizationError). */
export function authCodes(protocol: AwsProtocol, accessDeniedCode?: string): AuthCodes {
  const codes = protocol.kind === "json" ? JSON_CODES : protocol.kind === "rest-json" ? REST_JSON_CODES : protocol.kind === "s3" ? S3_CODES : QUERY_CODES;
  return accessDeniedCode ? { ...codes, accessDenied: [accessDeniedCode, codes.accessDenied[1]] } : codes;
}

const STANDARD_MESSAGES: Partial<Record<VerificationFailureCode, string>> = {
  UnknownAccessKey: "The security token included in the request is invalid.",
  MissingAuthenticationToken: "Request is missing Authentication Token",
};
/** S3 words a skewed request its own way (Amazon S3 API Reference, "Error responses"). */
const S3_SKEW_MESSAGE = "The difference between the request time and the current time is too large.";

/** The service's answer to a request whose signature did not verify. */
export function authenticationError(protocol: AwsProtocol, failure: { code: VerificationFailureCode; message: string }): AwsServiceError {
  const codes = authCodes(protocol);
  const [code, status] =
    failure.code === "UnknownAccessKey"
      ? codes.unknownKey
      : failure.code === "InvalidSignature"
        ? codes.badSignature
        : failure.code === "ExpiredToken"
          ? codes.expiredToken
          : failure.code === "MissingAuthenticationToken"
            ? codes.missing
            : failure.code === "SignatureExpired"
              ? protocol.kind === "s3"
                ? ["AccessDenied", 403]
                : codes.badSignature
              : failure.code === "RequestTimeTooSkewed"
                ? protocol.kind === "s3"
                  ? ["RequestTimeTooSkewed", 403]
                  : codes.badSignature
                : codes.incomplete;
  const message =
    protocol.kind === "s3" && failure.code === "UnknownAccessKey"
      ? "The AWS Access Key Id you provided does not exist in our records."
      : protocol.kind === "s3" && failure.code === "RequestTimeTooSkewed"
        ? S3_SKEW_MESSAGE
        : (STANDARD_MESSAGES[failure.code] ?? failure.message);
  return new AwsServiceError(code, message, status);
}

/** The service's answer to a caller the IAM evaluation refused. */
export function accessDeniedError(protocol: AwsProtocol, message: string, accessDeniedCode?: string): AwsServiceError {
  const [code, status] = authCodes(protocol, accessDeniedCode).accessDenied;
  // S3 never says why: its AccessDenied carries "Access Denied".
  return new AwsServiceError(code, protocol.kind === "s3" ? "Access Denied" : message, status);
}
