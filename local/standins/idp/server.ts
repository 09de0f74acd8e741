// The local IdP, playing ADFS for the SAML login: federation metadata, IdP-initiated sign-on, a
// login form, and the HTTP-POST binding back to the relying party with a signed SAMLResponse.
// Routes are a table so that other protocols (an OIDC issuer) can join the same server.
//
// IdP-initiated sign-on takes what AD FS takes (Microsoft, "AD FS 2.0 RelayState" and
// "Supporting Identity Provider Initiated RelayState"):
// - ?loginToRp=<relying party identifier>: sign in to that relying party, no RelayState;
// - ?RelayState=<URL-encoded "RPID=<URL-encoded identifier>&RelayState=<URL-encoded state>">:
//   sign in to that relying party and post the inner RelayState back to it. Parameters beside
//   RelayState are dropped, as AD FS drops them; a RelayState without RPID is refused, since AD
//   FS would not deliver it to the relying party.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenOnLoopback, LOOPBACK } from "../../lib/listen";
import { readBodyWithin } from "../../lib/read-body";
import { authenticate, loadDirectory, roleClaims, type Directory, type DirectoryUser } from "./directory";
import { LOCAL_IDP_ENTITY_ID, localIdpKey, localIdpMetadataXml } from "./metadata";
import {
  AWS_ROLE_ATTRIBUTE,
  AWS_ROLE_SESSION_NAME_ATTRIBUTE,
  AWS_SESSION_DURATION_ATTRIBUTE,
  buildSamlResponse,
  escapeXml as escapeHtml,
} from "./saml-response";

export const METADATA_PATH = "/FederationMetadata/2007-06/FederationMetadata.xml";
export const SIGN_ON_PATH = "/adfs/ls/IdpInitiatedSignOn.aspx";
export const AWS_RELYING_PARTY = "urn:amazon:webservices";
/** SAML bindings: RelayState MUST NOT exceed 80 bytes. */
const MAX_RELAY_STATE_BYTES = 80;
const MAX_FORM_BYTES = 16 * 1024;

export interface RelyingParty {
  /** ADFS's relying party identifier, named by `loginToRp` or RPID; ADFS writes it as the assertion's Audience. */
  identifier: string;
  /** Response Destination and SubjectConfirmationData Recipient: the relying party's endpoint. */
  acsUrl: string;
  /** Where the browser posts the response; default `acsUrl`. Locally: an emulated API's URL. */
  postUrl?: string;
}

export interface IdpOptions {
  port?: number;
  /** Users and groups; default local/standins/idp/users.json. */
  usersFile?: string;
  relyingParties: RelyingParty[];
  /** For the Role claims: `arn:aws:iam::<accountId>:saml-provider/<samlProviderName>,...role/<group>`. */
  aws: { accountId: string; samlProviderName: string };
  /** SessionDuration claim in seconds; none when absent. */
  sessionDurationSeconds?: number;
  now?: () => Date;
}

export interface RunningIdp {
  /** Base URL, e.g. http://127.0.0.1:4567 */
  url: string;
  /** IdP-initiated sign-on URL for a relying party, without RelayState. */
  signOnUrl(relyingParty?: string): string;
  metadataUrl: string;
  metadataXml: string;
  entityId: string;
  users: { username: string; password: string; groups: string[] }[];
  stop(): Promise<void>;
}

type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void> | void;

export async function startIdp(options: IdpOptions): Promise<RunningIdp> {
  const directory = loadDirectory(options.usersFile);
  const metadataXml = localIdpMetadataXml();
  const key = localIdpKey();
  const now = options.now ?? (() => new Date());

  const routes: Record<string, Route> = {
    [`GET ${METADATA_PATH}`]: (_request, response) => send(response, 200, "application/samlmetadata+xml", metadataXml),
    [`GET ${SIGN_ON_PATH}`]: (_request, response, url) => {
      const signOn = signOnRequest(url.searchParams);
      if ("problem" in signOn) return sendPage(response, 400, "Sign-on request refused", `<p class="error">${escapeHtml(signOn.problem)}</p>`);
      loginForm(response, 200, url.searchParams);
    },
    [`POST ${SIGN_ON_PATH}`]: async (request, response) => {
      const tooLarge = () => Object.assign(new Error(`The form is larger than ${MAX_FORM_BYTES} bytes`), { statusCode: 413 });
      const form = new URLSearchParams((await readBodyWithin(request, MAX_FORM_BYTES, tooLarge)).toString("utf8"));
      const signOn = signOnRequest(form);
      if ("problem" in signOn) return sendPage(response, 400, "Sign-on request refused", `<p class="error">${escapeHtml(signOn.problem)}</p>`);
      const user = authenticate(directory, form.get("username") ?? "", form.get("password") ?? "");
      if (!user) return loginForm(response, 401, form, "Incorrect user ID or password. Type the correct user ID and password, and try again.");
      postBinding(response, signOn.relyingParty, issue(user, signOn.relyingParty), signOn.relayState);
    },
  };

  /** The relying party and the RelayState of a sign-on request, read as AD FS reads them (see the top). */
  function signOnRequest(params: URLSearchParams): { relyingParty: RelyingParty; relayState: string } | { problem: string } {
    const outer = params.get("RelayState");
    let rpId = params.get("loginToRp");
    let relayState = "";
    if (outer !== null) {
      const pair = new URLSearchParams(outer);
      rpId = pair.get("RPID");
      if (rpId === null) {
        return {
          problem:
            `RelayState "${outer}" names no relying party. AD FS takes RelayState=<URL-encoded "RPID=<URL-encoded relying party>&RelayState=<URL-encoded state>">, ` +
            "e.g. RelayState=RPID%3Durn%253Aamazon%253Awebservices%26RelayState%3Dabc",
        };
      }
      relayState = pair.get("RelayState") ?? "";
    }
    const rp = options.relyingParties.find((candidate) => candidate.identifier === rpId);
    if (!rp) return { problem: `Unknown relying party "${rpId ?? ""}": this IdP knows ${options.relyingParties.map((candidate) => candidate.identifier).join(", ")}` };
    if (Buffer.byteLength(relayState) > MAX_RELAY_STATE_BYTES) {
      return { problem: `RelayState is ${Buffer.byteLength(relayState)} bytes; SAML allows at most ${MAX_RELAY_STATE_BYTES}` };
    }
    return { relyingParty: rp, relayState };
  }

  function issue(user: DirectoryUser, rp: RelyingParty): string {
    const attributes: Record<string, string[]> = {
      [AWS_ROLE_SESSION_NAME_ATTRIBUTE]: [user.email],
      [AWS_ROLE_ATTRIBUTE]: roleClaims(user, options.aws),
    };
    if (attributes[AWS_ROLE_ATTRIBUTE].length === 0) delete attributes[AWS_ROLE_ATTRIBUTE];
    if (options.sessionDurationSeconds) attributes[AWS_SESSION_DURATION_ATTRIBUTE] = [String(options.sessionDurationSeconds)];
    const xml = buildSamlResponse(
      {
        issuer: LOCAL_IDP_ENTITY_ID,
        destination: rp.acsUrl,
        audience: rp.identifier,
        nameId: `${directory.domain}\\${user.username}`,
        attributes,
        issueInstant: now(),
      },
      key,
    );
    return Buffer.from(xml, "utf8").toString("base64");
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const route = routes[`${request.method} ${url.pathname}`];
    if (!route) return sendPage(response, 404, "Not found", `<p>Nothing at ${escapeHtml(url.pathname)}.</p>`);
    Promise.resolve(route(request, response, url)).catch((error: Error & { statusCode?: number }) => {
      sendPage(response, error.statusCode ?? 500, "Error", `<p class="error">${escapeHtml(error.message)}</p>`);
    });
  });
  const port = await listenOnLoopback(server, options.port);
  const url = `http://${LOOPBACK}:${port}`;
  return {
    url,
    signOnUrl: (rp = AWS_RELYING_PARTY) => `${url}${SIGN_ON_PATH}?loginToRp=${encodeURIComponent(rp)}`,
    metadataUrl: `${url}${METADATA_PATH}`,
    metadataXml,
    entityId: LOCAL_IDP_ENTITY_ID,
    users: directory.users.map(({ username, password, groups }) => ({ username, password, groups })),
    stop: () => closeServer(server),
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store", ...headers });
  response.end(body);
}

const STYLE =
  "body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-top:4px solid #2672ec}" +
  "h1{font-size:1.3rem;font-weight:400}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}" +
  "button{margin-top:1.2rem;padding:.5rem 1.5rem;background:#2672ec;color:#fff;border:0}.error{color:#b00020}";

/**
 * `postBinding`: the page's form goes to the relying party. CSP form-action also governs where a
 * submitted form may be redirected, and the relying party answers the SAML post with a redirect to
 * its own pages (the login site), so that page cannot restrict form-action; the others post to the
 * IdP only.
 */
function sendPage(response: ServerResponse, status: number, title: string, body: string, options: { postBinding?: { nonce: string } } = {}) {
  const { postBinding: binding } = options;
  const csp = `default-src 'none'; style-src 'unsafe-inline'${binding ? `; script-src 'nonce-${binding.nonce}'` : "; form-action 'self'"}`;
  send(
    response,
    status,
    "text/html; charset=utf-8",
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
      `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    { "content-security-policy": csp, "x-frame-options": "DENY" },
  );
}

/** The login form; it posts the sign-on request's parameters back with the credentials. */
function loginForm(response: ServerResponse, status: number, signOn: URLSearchParams, error?: string) {
  const hidden = ["RelayState", "loginToRp"]
    .filter((name) => signOn.has(name))
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(signOn.get(name)!)}">`)
    .join("");
  sendPage(
    response,
    status,
    "Sign in (local ADFS)",
    (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : "") +
      `<form method="post" action="${SIGN_ON_PATH}">` +
      hidden +
      `<label for="username">User name</label><input type="text" id="username" name="username" autocomplete="username" autofocus required>` +
      `<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>` +
      `<button type="submit" id="sign-in">Sign in</button></form>`,
  );
}

/** The HTTP-POST binding: a form the browser submits to the relying party by itself. */
function postBinding(response: ServerResponse, rp: RelyingParty, samlResponse: string, relayState: string) {
  const target = rp.postUrl ?? rp.acsUrl;
  const nonce = randomBytes(16).toString("base64");
  sendPage(
    response,
    200,
    "Signing you in...",
    `<form method="post" action="${escapeHtml(target)}">` +
      `<input type="hidden" name="SAMLResponse" value="${samlResponse}">` +
      (relayState ? `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">` : "") +
      `<noscript><p>Script is off: press Continue.</p></noscript><button type="submit">Continue</button></form>` +
      `<script nonce="${nonce}">document.forms[0].submit()</script>`,
    { postBinding: { nonce } },
  );
}

export type { Directory };
