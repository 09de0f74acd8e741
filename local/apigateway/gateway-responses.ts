// Errors API Gateway produces itself, with the status codes and messages AWS documents
// ("Gateway response types for API Gateway"), customizable per API through gateway responses.

export type GatewayResponseType =
  | "ACCESS_DENIED"
  | "API_CONFIGURATION_ERROR"
  | "AUTHORIZER_CONFIGURATION_ERROR"
  | "AUTHORIZER_FAILURE"
  | "BAD_REQUEST_PARAMETERS"
  | "BAD_REQUEST_BODY"
  | "EXPIRED_TOKEN"
  | "INTEGRATION_FAILURE"
  | "INTEGRATION_TIMEOUT"
  | "INVALID_API_KEY"
  | "INVALID_SIGNATURE"
  | "MISSING_AUTHENTICATION_TOKEN"
  | "QUOTA_EXCEEDED"
  | "REQUEST_TOO_LARGE"
  | "RESOURCE_NOT_FOUND"
  | "THROTTLED"
  | "UNAUTHORIZED"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "WAF_FILTERED";

export const GATEWAY_RESPONSE_DEFAULTS: Record<GatewayResponseType, { status: number; message: string }> = {
  ACCESS_DENIED: { status: 403, message: "User is not authorized to access this resource" },
  API_CONFIGURATION_ERROR: { status: 500, message: "Internal server error" },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: "Internal server error" },
  AUTHORIZER_FAILURE: { status: 500, message: "Internal server error" },
  BAD_REQUEST_PARAMETERS: { status: 400, message: "Missing required request parameters" },
  BAD_REQUEST_BODY: { status: 400, message: "Invalid request body" },
  EXPIRED_TOKEN: { status: 403, message: "The security token included in the request is expired" },
  INTEGRATION_FAILURE: { status: 504, message: "Internal server error" },
  INTEGRATION_TIMEOUT: { status: 504, message: "Endpoint request timed out" },
  INVALID_API_KEY: { status: 403, message: "Forbidden" },
  INVALID_SIGNATURE: { status: 403, message: "The request signature we calculated does not match the signature you provided." },
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: "Missing Authentication Token" },
  QUOTA_EXCEEDED: { status: 429, message: "Limit Exceeded" },
  REQUEST_TOO_LARGE: { status: 413, message: "Request Too Long" },
  RESOURCE_NOT_FOUND: { status: 404, message: "Not Found" },
  THROTTLED: { status: 429, message: "Too Many Requests" },
  UNAUTHORIZED: { status: 401, message: "Unauthorized" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Unsupported Media Type" },
  WAF_FILTERED: { status: 403, message: "Forbidden" },
};

/** A failure inside the request pipeline, answered with a gateway response. */
export class GatewayFailure extends Error {
  constructor(
    readonly responseType: GatewayResponseType,
    /** Overrides the default message (e.g. which parameters are missing). */
    readonly detail?: string,
    /** Why, for the access log's `$context.<phase>.error` fields and the operator. */
    readonly cause?: { phase: "authorizer" | "integration" | "authenticate" | "authorize"; error: string },
    /** A status other than the type's default (a failed Lambda proxy answers 502). */
    readonly status?: number,
  ) {
    super(detail ?? GATEWAY_RESPONSE_DEFAULTS[responseType].message);
  }
}
