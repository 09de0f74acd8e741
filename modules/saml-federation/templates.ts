// API Gateway mapping templates of the SAML routes (VTL).

/**
 * POST /saml -> ProcessSAML. The seed read the fields with $input.params, which API Gateway does
 * not fill from a form body: the raw body goes to the function instead, base64-encoded so that
 * no character of it can break the JSON (the User-Agent likewise).
 */
export const PROCESS_SAML_REQUEST = `{
  "body": "$util.base64Encode($input.body)",
  "sourceIp": "$context.identity.sourceIp",
  "userAgent": "$util.base64Encode($context.identity.userAgent)",
  "requestId": "$context.requestId"
}`;

/** GET /saml -> DynamoDB DeleteItem. The key is the authorizer's principalId, never a client header. */
export function pickupRequest(table: string): string {
  return `{
  "TableName": "${table}",
  "Key": { "identityhash": { "S": "$context.authorizer.principalId" } },
  "ReturnValues": "ALL_OLD"
}`;
}

/** DeleteItem's old item -> the credentials; nothing left (picked up, or never parked) -> 404. */
export const PICKUP_RESPONSE = `#set($akid = $input.path('$.Attributes.AccessKeyId.S'))
#if("$!akid" == "")
#set($context.responseOverride.status = 404)
{"message": "No credentials are waiting for this login: they were picked up already, or they expired. Sign in again."}
#else
{
  "AccessKeyId": "$akid",
  "SecretAccessKey": "$input.path('$.Attributes.SecretAccessKey.S')",
  "SessionToken": "$input.path('$.Attributes.SessionToken.S')",
  "Expiration": "$input.path('$.Attributes.Expiration.S')"
}
#end`;

/**
 * The authority region's table did not answer (that region is down, or refused the call): nothing
 * was handed out, and the credentials stay parked until they expire.
 */
export const PICKUP_FAILED = `{"message": "Sign-in is unavailable: the credential store did not answer. No credentials were handed out; sign in again later.", "requestId": "$context.requestId"}`;

/**
 * GET /users (MOCK): the seed's answer. `$$` is Terraform's escape for a literal `$`: API Gateway
 * receives the seed's `${context.identity.userAgent}`.
 */
export const MOCK_OK_REQUEST = `{"statusCode": 200}`;
export const USERS_RESPONSE = `{
    "status": "Success",
    "agent": "$\${context.identity.userAgent}"
}`;
