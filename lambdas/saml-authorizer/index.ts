// REQUEST authorizer of GET /saml (identity sources Authorization, X-Identity-Id, X-Relay-Code;
// result TTL 0). It allows the credential pickup only for the login that the token was issued
// to: an ES256 token signed by the platform's KMS key, unexpired (30 s), for this audience and
// issuer, whose `sub` is SHA-256 of the identity id and `code_hash` SHA-256 of the code the
// browser kept. principalId = the identity hash: the DeleteItem proxy's key comes from it,
// never from the client.
import { createPublicKey, type KeyObject } from "node:crypto";
import { GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { errors, jwtVerify, type JWTHeaderParameters } from "jose";
import { METRICS } from "../lib/metric-names";
import { countEvent, instrumented, logger, traced } from "../lib/observability";
import { env, envList } from "../lib/saml/config";
import { PICKUP_TOKEN_SECONDS, sha256Hex } from "../lib/saml/jwt";

export interface RequestAuthorizerEvent {
  type: "REQUEST";
  methodArn: string;
  headers?: Record<string, string | undefined> | null;
}

export interface AuthorizerResult {
  principalId: string;
  policyDocument: { Version: "2012-10-17"; Statement: { Action: string; Effect: "Allow"; Resource: string }[] };
}

const kmsClients = new Map<string, KMSClient>();
const kmsIn = (region: string) => {
  let client = kmsClients.get(region);
  if (!client) kmsClients.set(region, (client = traced(new KMSClient({ region }))));
  return client;
};

/**
 * Public keys by key ARN. Every platform region has its own key behind the same alias; a
 * token issued in one region may be picked up in another, so all of them are trusted.
 */
let trustedKeys: Promise<Map<string, KeyObject>> | undefined;
function loadTrustedKeys(): Promise<Map<string, KeyObject>> {
  const keyId = env("JWT_KEY_ID");
  const loading = Promise.allSettled(
    envList("JWT_KEY_REGIONS").map(async (region) => {
      const { KeyId, PublicKey } = await kmsIn(region).send(new GetPublicKeyCommand({ KeyId: keyId }));
      if (!KeyId || !PublicKey) throw new Error(`KMS GetPublicKey ${keyId} in ${region} returned no key`);
      return [KeyId, createPublicKey({ key: Buffer.from(PublicKey), format: "der", type: "spki" })] as const;
    }),
  ).then((results) => {
    for (const r of results) if (r.status === "rejected") logger.error("a region's public key is unavailable", { error: String(r.reason) });
    return new Map(results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])));
  });
  trustedKeys = loading;
  return loading;
}

async function publicKeyFor(header: JWTHeaderParameters): Promise<KeyObject> {
  const kid = header.kid ?? "";
  let key = (await (trustedKeys ?? loadTrustedKeys())).get(kid);
  // A region whose KMS was unreachable at cold start, or a rotated key: look once more.
  if (!key) key = (await loadTrustedKeys()).get(kid);
  if (!key) throw new Refused(`token signed by an untrusted key ${JSON.stringify(kid)}`);
  return key;
}

class Refused extends Error {}

function header(event: RequestAuthorizerEvent, name: string): string {
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return entry?.[1] ?? "";
}

export const handler = instrumented(async (event: RequestAuthorizerEvent): Promise<AuthorizerResult> => {
  try {
    const token = header(event, "Authorization").replace(/^Bearer\s+/i, "");
    const identityId = header(event, "X-Identity-Id");
    const code = header(event, "X-Relay-Code");
    if (!token || !identityId || !code) throw new Refused("missing token, identity id or code");
    const { payload } = await jwtVerify(token, publicKeyFor, {
      algorithms: ["ES256"],
      issuer: env("JWT_ISSUER"),
      audience: env("JWT_AUDIENCE"),
      maxTokenAge: PICKUP_TOKEN_SECONDS,
      requiredClaims: ["sub", "code_hash", "jti", "iat", "exp"],
    });
    const identityHash = sha256Hex(identityId);
    if (payload.sub !== identityHash) throw new Refused("token issued to another identity");
    if (payload.code_hash !== sha256Hex(code)) throw new Refused("token issued for another code");
    return {
      principalId: identityHash,
      policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }] },
    };
  } catch (error) {
    const reason = error instanceof Refused || error instanceof errors.JOSEError ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
    logger.info("pickup refused", { reason });
    countEvent(METRICS.samlPickupRefused);
    // API Gateway answers 401 for exactly this message.
    throw new Error("Unauthorized");
  }
});
