// ACM certificates with DNS validation: the certificate asks for a CNAME in the hosted zone and
// is issued once that record exists in the (local) Route 53, as ACM does.
import { createHash } from "node:crypto";
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

type Handler = ResourceHandler<RegionServices>;

/** ACM's validation record for a name is the same in every region of an account. */
function validationRecord(accountId: string, domainName: string) {
  const token = createHash("sha256").update(`${accountId}/${domainName}`).digest("hex");
  return {
    domain_name: domainName,
    resource_record_name: `_${token.slice(0, 32)}.${domainName}.`,
    resource_record_type: "CNAME",
    resource_record_value: `_${token.slice(32, 64)}.acm-validations.aws.`,
  };
}

export const acmResources: Record<string, Handler> = {
  aws_acm_certificate: ({ config, region, accountId, stableId }) => {
    if (config.validation_method !== "DNS") throw new Error(`certificate for ${config.domain_name}: only DNS validation is emulated`);
    const names = [config.domain_name, ...(config.subject_alternative_names ?? [])];
    return {
      id: `arn:aws:acm:${region}:${accountId}:certificate/${stableId(36)}`,
      arn: `arn:aws:acm:${region}:${accountId}:certificate/${stableId(36)}`,
      domain_validation_options: names.map((name: string) => validationRecord(accountId, name)),
      status: "PENDING_VALIDATION",
    };
  },

  aws_acm_certificate_validation: ({ config, services }) => {
    for (const fqdn of config.validation_record_fqdns ?? []) {
      if (!services.route53.hasRecord(fqdn, "CNAME")) {
        throw new Error(`certificate ${config.certificate_arn} cannot be validated: no CNAME ${fqdn} in Route 53`);
      }
    }
    return { id: config.certificate_arn, certificate_arn: config.certificate_arn };
  },
};
