// TOKEN authorizer of POST /comments (seed "Use Lambda authorizers with a third-party identity
// provider"): verifies the Bearer access token against the issuer's JWKS with issuer, audience
// and algorithm pinned, and maps the `comments:write` scope to an Allow on the routes it grants;
// a valid token without it gets an explicit Deny (403), anything else is Unauthorized (401).
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import { METRICS } from "../lib/metric-names";
import { countEvent, instrumented, logger } from "../lib/observability";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`comments-authorizer: environment variable ${name} is not set`);
  return value;
};

const ISSUER = env("JWT_ISSUER");
const AUDIENCE = env("JWT_AUDIENCE");
const REQUIRED_SCOPE = env("REQUIRED_SCOPE");
/** `POST/comments`: what the scope grants, in every stage of this API. */
const GRANTED_ROUTES = env("GRANTED_ROUTES").split(",");
/**
 * API Gateway keeps a decision this long; a token that expires sooner is refused, so that a
 * cached Allow never outlives its token.
 */
// The authorizer's result TTL: a token must stay valid at least that long (MIN_TOKEN_LIFETIME_ENV of modules/rest-api).
const RESULT_TTL_SECONDS = Number(env("MIN_TOKEN_LIFETIME_SECONDS"));
const ALGORITHMS = ["RS256"];
// Keys are fetched once per container and refetched when an unknown kid shows up.
const jwks = createRemoteJWKSet(new URL(env("JWKS_URL")), { timeoutDuration: 3000, cooldownDuration: 30_000 });

interface TokenEvent {
  type: "TOKEN";
  methodArn: string;
  authorizationToken: string;
}

/** `scope` (RFC 9068: space-separated) or `scp` (an array, as in the seed). */
function scopes(claims: JWTPayload): string[] {
  if (typeof claims.scope === "string") return claims.scope.split(" ").filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === "string");
  return [];
}

function policy(principalId: string, effect: "Allow" | "Deny", resources: string[]) {
  return {
    principalId,
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resources }] },
  };
}

/** A refused token: logged at INFO (refusals are the authorizer's job, not its failures) and counted. */
function refused(decision: "Unauthorized" | "Deny", reason: string, sub?: string): void {
  logger.info("token refused", { decision, reason, ...(sub ? { sub } : {}) });
  countEvent(METRICS.commentTokensRefused, { decision });
}

export const handler = instrumented(async (event: TokenEvent) => {
  const token = /^Bearer ([-0-9a-zA-Z._]+)$/.exec(event.authorizationToken ?? "")?.[1];
  if (!token) {
    refused("Unauthorized", "no Bearer token");
    throw new Error("Unauthorized");
  }
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms: ALGORITHMS, requiredClaims: ["exp", "sub"] }));
  } catch (error) {
    refused("Unauthorized", (error as Error).message);
    throw new Error("Unauthorized");
  }
  if (claims.exp! - Date.now() / 1000 < RESULT_TTL_SECONDS) {
    refused("Unauthorized", `the token expires within the ${RESULT_TTL_SECONDS} s a decision is cached`, claims.sub);
    throw new Error("Unauthorized");
  }
  // arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>
  const api = event.methodArn.split("/")[0];
  if (!scopes(claims).includes(REQUIRED_SCOPE)) {
    refused("Deny", `scope ${REQUIRED_SCOPE} missing`, claims.sub);
    return policy(claims.sub!, "Deny", [`${api}/*`]);
  }
  return policy(claims.sub!, "Allow", GRANTED_ROUTES.map((route) => `${api}/*/${route}`));
});
