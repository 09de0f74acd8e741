// The whole platform: one regional stack per configured region, global DNS, org guardrails.
import { App, Aspects } from "cdktf";
import type { PlatformConfig } from "./config";
import { GlobalDns } from "./global-dns";
import { LeaveOutMotoGaps } from "./moto-target";
import { OrgGuardrails } from "./org-guardrails";
import { DEPLOY_TARGETS, type DeployTarget } from "./platform-stack";
import { RegionalPlatform } from "./regional-platform";

export function buildApp(config: PlatformConfig, target: DeployTarget, outdir?: string): App {
  const app = new App({ outdir, skipValidation: false, stackTraces: false });
  const regional = config.regions.map((region) => new RegionalPlatform(app, { config, target, region }));
  const dns = new GlobalDns(app, { config, target });
  // global-dns reads the regional stacks' outputs from their state: deploy them first.
  for (const stack of regional) dns.addDependency(stack);
  const org = new OrgGuardrails(app, { config, target });
  // cdktf runs the aspects of each stack, not the app's.
  if (target === "moto") for (const stack of [...regional, dns, org]) Aspects.of(stack).add(new LeaveOutMotoGaps());
  return app;
}

/** PLATFORM_TARGET selects the state backend and provider auth; see DeployTarget. */
export function targetFromEnv(value = process.env.PLATFORM_TARGET): DeployTarget {
  const target = (value ?? "aws") as DeployTarget;
  if (!DEPLOY_TARGETS.includes(target)) {
    throw new Error(`PLATFORM_TARGET="${value}" is not a deploy target; use one of: ${DEPLOY_TARGETS.join(", ")}`);
  }
  return target;
}
