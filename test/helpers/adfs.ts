// Signing in at the local IdP as a browser does from the login page: the AD FS sign-on URL the
// page builds (web/src/adfs-sign-on.ts), the login form submitted with its own hidden fields and
// the credentials, and the HTTP-POST binding form the IdP answers with.
import { AWS_RELYING_PARTY, SIGN_ON_PATH } from "../../local/standins/idp/server";
import { adfsSignOnUrl } from "../../web/src/adfs-sign-on";

export interface IdpAnswer {
  status: number;
  /** Where the browser posts next (the relying party's endpoint), when the IdP answered with the POST binding. */
  action?: string;
  SAMLResponse: string;
  RelayState: string;
  html: string;
}

const unescapeHtml = (value: string) =>
  value.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The hidden inputs and action of the first form of a page. */
function formOf(html: string): { action?: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(([, name, value]) => [name, unescapeHtml(value)]));
  return { action: action && unescapeHtml(action), fields };
}

export async function signInAtIdp(idpUrl: string, username: string, password: string, relayState: string, relyingParty = AWS_RELYING_PARTY): Promise<IdpAnswer> {
  const page = await fetch(adfsSignOnUrl(`${idpUrl}${SIGN_ON_PATH}`, relyingParty, relayState));
  const login = formOf(await page.text());
  if (page.status !== 200 || !login.action) throw new Error(`the IdP's sign-on page answered ${page.status}`);
  const answer = await fetch(new URL(login.action, idpUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...login.fields, username, password }),
  });
  const html = await answer.text();
  const binding = formOf(html);
  return { status: answer.status, action: binding.action, SAMLResponse: binding.fields.SAMLResponse ?? "", RelayState: binding.fields.RelayState ?? "", html };
}
