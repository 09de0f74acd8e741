// The local IdP (the AD FS stand-in) for a deployed SAML provider whose metadata is the local
// IdP's: its relying party endpoint is what the roles trusting the provider require as SAML:aud.
import type { PolicyDocument } from "../iam/evaluator";
import { AWS_RELYING_PARTY, startIdp, type RunningIdp } from "./idp/server";
import { LOCAL_IDP_ENTITY_ID } from "./idp/metadata";
import type { AccountServices } from "../cloud/accounts";

/** `now`: the local cloud's clock (epoch ms), which the IdP's assertions are dated on, as AD FS's clock agrees with AWS's. */
export async function startIdentityProvider(accounts: AccountServices[], port: number, log: (line: string) => void, now: () => number): Promise<RunningIdp | undefined> {
  for (const account of accounts) {
    for (const provider of account.sts.samlProviders()) {
      if (provider.entityId !== LOCAL_IDP_ENTITY_ID) {
        log(`idp: SAML provider ${provider.arn} trusts ${provider.entityId}, not the local IdP: no local sign-in for it`);
        continue;
      }
      const acsUrl = account.iam.allRoles().flatMap((role) => samlAudiences(role.trustPolicy, provider.arn))[0];
      if (!acsUrl) continue;
      const idp = await startIdp({
        port,
        // The browser posts to the ACS URL itself, as with AD FS; clients here map it with localUrl().
        // The audience is the relying party identifier, as AD FS writes it.
        relyingParties: [{ identifier: AWS_RELYING_PARTY, acsUrl }],
        aws: { accountId: account.accountId, samlProviderName: provider.name },
        now: () => new Date(now()),
      });
      log(`idp: ${idp.signOnUrl()} signs in to ${acsUrl} for ${provider.arn}`);
      return idp;
    }
  }
  return undefined;
}

/** The `SAML:aud` values a trust policy requires of sessions federated through a provider. */
function samlAudiences(trustPolicy: PolicyDocument, providerArn: string): string[] {
  const statements = Array.isArray(trustPolicy.Statement) ? trustPolicy.Statement : [trustPolicy.Statement];
  return statements
    .filter((st) => st.Effect === "Allow" && typeof st.Principal === "object" && [st.Principal.Federated ?? []].flat().includes(providerArn))
    .flatMap((st) => [st.Condition?.StringEquals?.["SAML:aud"] ?? []].flat().map(String));
}
