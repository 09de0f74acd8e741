// The login page's way into AD FS: IdP-initiated sign-on with the RelayState format Microsoft
// documents ("AD FS 2.0 RelayState", Ask the Directory Services Team blog, 2012; "Supporting
// Identity Provider Initiated RelayState", TechNet): RelayState=<URL-encoded
// "RPID=<URL-encoded relying party identifier>&RelayState=<URL-encoded RelayState>">, nothing
// else in the query. The local IdP reads it as AD FS does and posts the inner RelayState back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_RELYING_PARTY, SIGN_ON_PATH, startIdp, type RunningIdp } from "../local/standins/idp/server";
import { adfsSignOnUrl } from "../web/src/adfs-sign-on";
import { signInAtIdp } from "./helpers/adfs";
import { ACCOUNT, ACS_URL } from "./helpers/saml-cloud";

const SIGN_ON = "https://adfs.example.com/adfs/ls/IdpInitiatedSignOn.aspx";
/** What the login page puts in RelayState: identity id and code (base64url). */
const STATE = "7c9e6679-7425-40de-944b-e07fc1f90ae7:q1_w-E2r3T4y5U6i7O8p9A";

/** Microsoft's steps, undone one by one. */
function readAsMicrosoftDocuments(url: string) {
  const parsed = new URL(url);
  const query = parsed.search.slice(1).split("&");
  expect(query).toHaveLength(1);
  const [name, encodedPair] = query[0].split("=");
  expect(name).toBe("RelayState");
  const pair = decodeURIComponent(encodedPair).split("&");
  expect(pair).toHaveLength(2);
  const [rpidName, rpid] = pair[0].split("=");
  const [stateName, state] = pair[1].split("=");
  expect([rpidName, stateName]).toEqual(["RPID", "RelayState"]);
  return { signOn: `${parsed.origin}${parsed.pathname}`, rpid: decodeURIComponent(rpid), relayState: decodeURIComponent(state) };
}

describe("the login page's AD FS sign-on URL", () => {
  it("is RelayState=<encoded RPID=<encoded id>&RelayState=<encoded state>>, each part encoded as Microsoft's steps say", () => {
    const url = adfsSignOnUrl(SIGN_ON, AWS_RELYING_PARTY, STATE);
    expect(url).toBe(
      `${SIGN_ON}?RelayState=RPID%3Durn%253Aamazon%253Awebservices%26RelayState%3D7c9e6679-7425-40de-944b-e07fc1f90ae7%253Aq1_w-E2r3T4y5U6i7O8p9A`,
    );
    expect(readAsMicrosoftDocuments(url)).toEqual({ signOn: SIGN_ON, rpid: "urn:amazon:webservices", relayState: STATE });
  });

  it("keeps a RelayState with &, = and spaces apart from the RPID", () => {
    const state = "a=b&RPID=urn:evil c";
    expect(readAsMicrosoftDocuments(adfsSignOnUrl(SIGN_ON, AWS_RELYING_PARTY, state))).toMatchObject({ rpid: AWS_RELYING_PARTY, relayState: state });
  });
});

describe("the local IdP reads it as AD FS does", () => {
  let idp: RunningIdp;
  beforeAll(async () => {
    idp = await startIdp({ relyingParties: [{ identifier: AWS_RELYING_PARTY, acsUrl: ACS_URL }], aws: { accountId: ACCOUNT, samlProviderName: "ADFS" } });
  });
  afterAll(() => idp?.stop());

  const signOnPage = async (query: string) => {
    const response = await fetch(`${idp.url}${SIGN_ON_PATH}?${query}`);
    return { status: response.status, html: await response.text() };
  };

  it("round-trips the inner RelayState: bob signs in and the POST binding carries it to the relying party", async () => {
    const answer = await signInAtIdp(idp.url, "bob", "bob-local-password", STATE);
    expect(answer.status).toBe(200);
    expect(answer.action).toBe(ACS_URL);
    expect(answer.RelayState).toBe(STATE);
    // AD FS names the relying party trust as the audience.
    expect(Buffer.from(answer.SAMLResponse, "base64").toString("utf8")).toContain("<Audience>urn:amazon:webservices</Audience>");
  });

  it("drops loginToRp beside a RelayState pair, as AD FS drops parameters outside RelayState", async () => {
    const url = new URL(adfsSignOnUrl(`${idp.url}${SIGN_ON_PATH}`, AWS_RELYING_PARTY, STATE));
    const page = await signOnPage(`loginToRp=urn:other&${url.search.slice(1)}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });

  it("signs in with loginToRp alone, without a RelayState", async () => {
    expect((await signOnPage(`loginToRp=${encodeURIComponent(AWS_RELYING_PARTY)}`)).status).toBe(200);
  });

  it.each([
    ["a RelayState without RPID (the pair was not built)", `loginToRp=${encodeURIComponent(AWS_RELYING_PARTY)}&RelayState=${encodeURIComponent(STATE)}`, "names no relying party"],
    ["an RPID this IdP has no trust for", new URL(adfsSignOnUrl(SIGN_ON, "urn:other", STATE)).search.slice(1), "Unknown relying party &quot;urn:other&quot;"],
    ["an inner RelayState over SAML's 80 bytes", new URL(adfsSignOnUrl(SIGN_ON, AWS_RELYING_PARTY, "x".repeat(81))).search.slice(1), "at most 80"],
  ])("refuses %s, saying why", async (_case, query, says) => {
    const page = await signOnPage(query);
    expect(page.status).toBe(400);
    expect(page.html).toContain(says);
  });
});
