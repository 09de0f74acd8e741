// The local IdP's OAuth 2.0 / OIDC issuer, standing in for the third-party identity provider of
// the Comments API: discovery document, JWKS and a client-credentials token endpoint issuing
// RS256 access tokens. It answers for the dev environment's issuer and JWKS URL (the local cloud
// points functions at it as it does for the NASA APIs); the signing key is made at start.
import { randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { closeServer, listenOnLoopback, LOOPBACK } from "../../lib/listen";
import { readBodyWithin } from "../../lib/read-body";

/** The dev environment's issuer (config/environments.json commentsAuth.issuer). */
export const LOCAL_OIDC_ISSUER = "https://login.dev.example.com/";
/** Origin of the dev environment's jwksUrl: what the local cloud maps to this server. */
export const LOCAL_OIDC_KEYS_ORIGIN = "https://keys.dev.example.com";
export const DISCOVERY_PATH = "/.well-known/openid-configuration";
export const JWKS_PATH = "/oauth2/jwks.json";
export const TOKEN_PATH = "/oauth2/token";
const DEFAULT_CLIENTS_FILE = new URL("./oidc-clients.json", import.meta.url);
const ALGORITHM = "RS256";
const MAX_FORM_BYTES = 8 * 1024;

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

export interface OidcIssuerOptions {
  port?: number;
  clientsFile?: string | URL;
  /** Lifetime of issued access tokens, seconds (default 3600). */
  tokenLifetimeSeconds?: number;
  /** The clock tokens are issued on (epoch ms): the local cloud's, as an IdP's clock agrees with AWS's. Default: the machine's. */
  now?: () => number;
}

export interface TokenRequest {
  clientId: string;
  scopes: string[];
  audience: string;
  /** Seconds; negative issues a token that has already expired (tests). */
  lifetimeSeconds?: number;
}

export interface RunningOidcIssuer {
  issuer: string;
  /** Loopback base URL. */
  url: string;
  discoveryUrl: string;
  jwksUrl: string;
  tokenUrl: string;
  clients: OidcClient[];
  /** Signs an access token as the token endpoint does (for tests that need an expired one). */
  issueToken(request: TokenRequest): Promise<string>;
  stop(): Promise<void>;
}

class OAuthError extends Error {
  constructor(
    readonly code: "invalid_request" | "invalid_client" | "invalid_scope" | "unsupported_grant_type",
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<RunningOidcIssuer> {
  const clients = (JSON.parse(readFileSync(options.clientsFile ?? DEFAULT_CLIENTS_FILE, "utf8")) as { clients: OidcClient[] }).clients;
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: "sig" };
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const jwksUrl = `${LOCAL_OIDC_KEYS_ORIGIN}${JWKS_PATH}`;

  const issueToken = async (request: TokenRequest) => {
    const now = Math.floor((options.now ?? Date.now)() / 1000);
    const expiresIn = request.lifetimeSeconds ?? lifetime;
    return new SignJWT({ scope: request.scopes.join(" "), client_id: request.clientId })
      .setProtectedHeader({ alg: ALGORITHM, kid, typ: "at+jwt" })
      .setIssuer(LOCAL_OIDC_ISSUER)
      .setSubject(request.clientId)
      .setAudience(request.audience)
      .setIssuedAt(Math.min(now, now + expiresIn))
      .setExpirationTime(now + expiresIn)
      .setJti(randomUUID())
      .sign(privateKey);
  };

  const token = async (request: IncomingMessage): Promise<Record<string, unknown>> => {
    const tooLarge = () => new OAuthError("invalid_request", `the form is larger than ${MAX_FORM_BYTES} bytes`, 413);
    const form = new URLSearchParams((await readBodyWithin(request, MAX_FORM_BYTES, tooLarge)).toString("utf8"));
    if (form.get("grant_type") !== "client_credentials") throw new OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported");
    const client = authenticateClient(clients, request.headers.authorization, form);
    const audience = form.get("audience");
    if (!audience) throw new OAuthError("invalid_request", "audience is required: the API the token is for");
    const requested = (form.get("scope") ?? "").split(" ").filter(Boolean);
    const refused = requested.filter((s) => !client.scopes.includes(s));
    if (refused.length > 0) throw new OAuthError("invalid_scope", `client ${client.clientId} may not request ${refused.join(", ")}`);
    const scopes = requested.length > 0 ? requested : client.scopes;
    return { access_token: await issueToken({ clientId: client.clientId, scopes, audience }), token_type: "Bearer", expires_in: lifetime, scope: scopes.join(" ") };
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const route = `${request.method} ${path}`;
    const answer =
      route === `GET ${DISCOVERY_PATH}`
        ? Promise.resolve(discovery(jwksUrl))
        : route === `GET ${JWKS_PATH}`
          ? Promise.resolve({ keys: [jwk] })
          : route === `POST ${TOKEN_PATH}`
            ? token(request)
            : Promise.reject(new OAuthError("invalid_request", `nothing at ${request.method} ${path}`, 404));
    answer.then(
      (body) => sendJson(response, 200, body),
      (error: Error) =>
        error instanceof OAuthError
          ? sendJson(response, error.code === "invalid_client" ? 401 : error.status, { error: error.code, error_description: error.message })
          : sendJson(response, 500, { error: "server_error", error_description: error.message }),
    );
  });
  const port = await listenOnLoopback(server, options.port);
  const url = `http://${LOOPBACK}:${port}`;
  return {
    issuer: LOCAL_OIDC_ISSUER,
    url,
    discoveryUrl: `${url}${DISCOVERY_PATH}`,
    jwksUrl: `${url}${JWKS_PATH}`,
    tokenUrl: `${url}${TOKEN_PATH}`,
    clients,
    issueToken,
    stop: () => closeServer(server),
  };
}

/** The discovery document names the public URLs, as the real issuer's would. */
function discovery(jwksUrl: string) {
  return {
    issuer: LOCAL_OIDC_ISSUER,
    jwks_uri: jwksUrl,
    token_endpoint: new URL(TOKEN_PATH, LOCAL_OIDC_ISSUER).href,
    grant_types_supported: ["client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    id_token_signing_alg_values_supported: [ALGORITHM],
    response_types_supported: ["token"],
    subject_types_supported: ["public"],
    scopes_supported: ["comments:read", "comments:write"],
  };
}

/** client_secret_basic (Authorization: Basic) or client_secret_post (form fields). */
function authenticateClient(clients: OidcClient[], authorization: string | undefined, form: URLSearchParams): OidcClient {
  let id = form.get("client_id");
  let secret = form.get("client_secret");
  const basic = /^Basic (.+)$/i.exec(authorization ?? "")?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new OAuthError("invalid_client", "Basic credentials must be client_id:client_secret");
    id = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  const client = clients.find((c) => c.clientId === id);
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  if (!client || !secret || !same(secret, client.clientSecret)) throw new OAuthError("invalid_client", "unknown client or wrong secret");
  return client;
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}
