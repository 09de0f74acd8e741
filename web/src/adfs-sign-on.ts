// Where the login page sends users: AD FS's IdP-initiated sign-on page, told which relying party
// to sign in to and which RelayState to post back to it. Microsoft documents the format ("AD FS
// 2.0 RelayState", Ask the Directory Services Team; "Supporting Identity Provider Initiated
// RelayState", TechNet):
//   1. URL-encode the relying party's identifier and the RelayState, each;
//   2. join them as RPID=<encoded identifier>&RelayState=<encoded RelayState>;
//   3. URL-encode that whole string;
//   4. append it to the IdP-initiated sign-on URL as ?RelayState=<...>.
// AD FS then signs the user in to that relying party and posts the inner RelayState back with the
// SAMLResponse; parameters beside RelayState (loginToRp) are dropped. AD FS accepts it only with
// RelayState enabled for IdP-initiated sign-on (see "Connecting a real AD FS" in the README).

export function adfsSignOnUrl(signOnUrl: string, relyingPartyId: string, relayState: string): string {
  const pair = `RPID=${encodeURIComponent(relyingPartyId)}&RelayState=${encodeURIComponent(relayState)}`;
  return `${signOnUrl}?RelayState=${encodeURIComponent(pair)}`;
}
