// Access log format and gateway responses shared by every REST API of the platform.

/**
 * One JSON object per request, with the enhanced observability variables of each phase
 * ($context.<phase>.*) so that a failed request says where it failed. A 400 from a request
 * validator says why in `error-validationErrorString` (which property broke which rule, where the
 * client only gets "Invalid request body"); `error-messageString` is the error message as a JSON
 * string, quotes included. The API key itself is never logged: only its id. `wafResponseCode`
 * says whether the stage's web ACL let the request through (WAF_ALLOW) or blocked it (WAF_BLOCK);
 * `isCanaryRequest`, while a canary is on, which deployment served it.
 */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  requestTimeEpoch: "$context.requestTimeEpoch",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  path: "$context.path",
  stage: "$context.stage",
  domainName: "$context.domainName",
  protocol: "$context.protocol",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  caller: "$context.identity.caller",
  user: "$context.identity.user",
  apiKeyId: "$context.identity.apiKeyId",
  status: "$context.status",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  "authorizer-principalId": "$context.authorizer.principalId",
  "authorizer-error": "$context.authorizer.error",
  "authorizer-status": "$context.authorizer.status",
  "authorizer-latency": "$context.authorizer.latency",
  "authorizer-requestId": "$context.authorizer.requestId",
  "authenticate-error": "$context.authenticate.error",
  "authenticate-status": "$context.authenticate.status",
  "authorize-error": "$context.authorize.error",
  "authorize-status": "$context.authorize.status",
  "integration-error": "$context.integration.error",
  "integration-status": "$context.integration.status",
  "integration-latency": "$context.integration.latency",
  "integration-requestId": "$context.integration.requestId",
  "integration-integrationStatus": "$context.integration.integrationStatus",
  "error-message": "$context.error.message",
  "error-messageString": "$context.error.messageString",
  "error-validationErrorString": "$context.error.validationErrorString",
  "error-responseType": "$context.error.responseType",
  wafResponseCode: "$context.wafResponseCode",
  isCanaryRequest: "$context.isCanaryRequest",
} as const;

/**
 * Every error API Gateway itself produces is a JSON object. No status code is set, so each
 * response keeps its own (403 for a missing token, 429 when throttled, ...).
 */
export const GATEWAY_RESPONSE_TYPES = ["DEFAULT_4XX", "DEFAULT_5XX"] as const;

export const GATEWAY_RESPONSE_TEMPLATE =
  '{"message":$context.error.messageString,"type":"$context.error.responseType","requestId":"$context.requestId"}';
