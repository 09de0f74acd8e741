// What the login page and the browser do in a SAML login against the local cloud: sign in at the
// local IdP, post its form to POST /saml (of the custom domain, or of one region), pick the
// credentials up with GET /saml.
import { randomBytes, randomUUID } from "node:crypto";
import type { LocalCloud } from "../../local/cloud";
import { signInAtIdp } from "./adfs";

export const PLATFORM_SAML_URL = "https://api.dev.example.com/v1/saml";

export interface IdpForm {
  action: string;
  SAMLResponse: string;
  RelayState: string;
}

export interface Login {
  identityId: string;
  code: string;
  form: IdpForm;
  status: number;
  location: string;
  /** The pickup token of a successful login. */
  token?: string;
  /** The reason of a refused one (`#error=<reason>`). */
  error?: string;
}

export function samlBrowser(cloud: LocalCloud) {
  /** The stage URL of GET/POST /saml in one region, or the custom domain (the first region serving it). */
  const samlUrl = (region?: string) => (region ? `${cloud.endpoints().regions[region].apiUrl}/saml` : cloud.localUrl(PLATFORM_SAML_URL)!);

  /** Signs in at the local IdP as the browser would; returns the form the IdP has the browser post. */
  async function signIn(username: string, password: string, relayState: string): Promise<IdpForm> {
    const answer = await signInAtIdp(cloud.endpoints().idp!.url, username, password, relayState);
    if (answer.status !== 200) throw new Error(`the IdP answered the sign-in with ${answer.status}`);
    return { action: answer.action ?? "", SAMLResponse: answer.SAMLResponse, RelayState: answer.RelayState };
  }

  /** Posts the IdP's form to POST /saml; the answer is the redirect back to the login page. */
  async function post(form: IdpForm, region?: string) {
    const posted = await fetch(samlUrl(region), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState }),
    });
    await posted.arrayBuffer();
    const location = posted.headers.get("location") ?? "";
    return { status: posted.status, location, token: /#token=([\w-]+\.[\w-]+\.[\w-]+)$/.exec(location)?.[1], error: /#error=(\w+)$/.exec(location)?.[1] };
  }

  /** A signed-in IdP form for a fresh login, not posted yet. */
  async function prepare(username: string, password: string) {
    const identityId = randomUUID();
    const code = randomBytes(16).toString("base64url");
    return { identityId, code, form: await signIn(username, password, `${identityId}:${code}`) };
  }

  async function login(username: string, password: string, region?: string): Promise<Login> {
    const prepared = await prepare(username, password);
    return { ...prepared, ...(await post(prepared.form, region)) };
  }

  const pickup = (login: Pick<Login, "token" | "identityId" | "code">, region?: string) =>
    fetch(samlUrl(region), { headers: { Authorization: login.token ?? "", "X-Identity-Id": login.identityId, "X-Relay-Code": login.code } });

  return { samlUrl, signIn, prepare, post, login, pickup };
}
