// The login page (docs/design.md, SAML login steps 1, 4 and 6): starts the IdP sign-on with a fresh identity id
// and code, receives the pickup token in the URL fragment, picks the credentials up once, and
// signs GET /users with them (SigV4) when Ping is pressed. config.json (written beside this page
// at deploy time) says where the API and the IdP are.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { adfsSignOnUrl } from "./adfs-sign-on";

interface PageConfig {
  apiUrl: string;
  /** AD FS's IdP-initiated sign-on page (…/adfs/ls/IdpInitiatedSignOn.aspx). */
  idpSignOnUrl: string;
  /** The relying party trust AD FS signs the user in to (urn:amazon:webservices). */
  relyingPartyId: string;
  region: string;
}
interface Credentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

const LOGIN_KEY = "saml-login";
const REASONS: Record<string, string> = {
  assertion_replayed: "this sign-in was already used",
  assertion_expired: "the sign-in took too long or the clocks disagree",
  no_mapped_role: "your account is in no group that maps to a role here",
  signature_invalid: "the sign-in did not come from the trusted IdP",
  relay_state_invalid: "the sign-in did not start on this page",
  authority_unavailable: "sign-in is unavailable right now (the credential store did not answer); no credentials were issued, try again later",
};

const $ = (id: string) => document.getElementById(id)!;
let credentials: Credentials | undefined;

function say(text: string, kind: "ok" | "error" | "" = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

/**
 * A v4 UUID from getRandomValues: crypto.randomUUID exists only in secure contexts, and the S3
 * website endpoint serves this page over plain HTTP.
 */
function randomIdentityId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function main() {
  const config = (await (await fetch("config.json", { cache: "no-store" })).json()) as PageConfig;
  $("sign-in").addEventListener("click", () => {
    const login = { identityId: randomIdentityId(), code: randomCode() };
    sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
    location.assign(adfsSignOnUrl(config.idpSignOnUrl, config.relyingPartyId, `${login.identityId}:${login.code}`));
  });
  $("ping").addEventListener("click", () => ping(config).catch((e) => say(`Ping failed: ${(e as Error).message}`, "error")));

  const fragment = new URLSearchParams(location.hash.slice(1));
  // The token is good once and for 30 s: take it out of the address bar and history at once.
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  const error = fragment.get("error");
  if (error) say(`Sign-in refused (${error})${REASONS[error] ? `: ${REASONS[error]}` : ""}.`, "error");
  const token = fragment.get("token");
  if (token) await pickUp(config, token);
}

async function pickUp(config: PageConfig, token: string) {
  const saved = sessionStorage.getItem(LOGIN_KEY);
  sessionStorage.removeItem(LOGIN_KEY);
  if (!saved) return say("This browser tab did not start the sign-in: sign in again.", "error");
  const login = JSON.parse(saved) as { identityId: string; code: string };
  say("Picking up your credentials...");
  const response = await fetch(`${config.apiUrl}/saml`, {
    headers: { Authorization: token, "X-Identity-Id": login.identityId, "X-Relay-Code": login.code },
  }).catch(() => undefined);
  if (!response?.ok) {
    const unavailable = "Sign-in is unavailable right now (the credential store did not answer): sign in again later.";
    const reasons: Record<number, string> = { 404: "These credentials were picked up already: sign in again.", 503: unavailable, 504: unavailable };
    return say(reasons[response?.status ?? 0] ?? "Could not pick up your credentials: sign in again.", "error");
  }
  credentials = (await response.json()) as Credentials;
  $("credentials").textContent = `Access key ${credentials.AccessKeyId}, valid until ${new Date(credentials.Expiration).toLocaleString()}.`;
  ($("ping") as HTMLButtonElement).disabled = false;
  say("Signed in. Press Ping to try your credentials.", "ok");
}

async function ping(config: PageConfig) {
  if (!credentials) return;
  const url = new URL(`${config.apiUrl}/users`);
  const signer = new SignatureV4({
    service: "execute-api",
    region: config.region,
    sha256: Sha256,
    credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken },
  });
  const signed = await signer.sign({
    method: "GET",
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host },
  });
  const { host: _host, ...headers } = signed.headers;
  const response = await fetch(url, { headers });
  const text = await response.text();
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text));
  } catch {
    // not JSON: show it as it came
  }
  $("answer").textContent = `${response.status} ${shown}`;
  say(response.ok ? "Ping answered." : "Ping was refused.", response.ok ? "ok" : "error");
}

main().catch((e) => say(`The page could not start: ${(e as Error).message}`, "error"));
