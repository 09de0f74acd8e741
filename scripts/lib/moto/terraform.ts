// Real `terraform apply` / `plan` / `destroy` of synthesized stacks (target moto) against a running
// moto_server: a provider override file per stack points every AWS endpoint at moto with test
// credentials, and the prerequisites the config assumes of an account (its hosted zones) are
// created first, as they exist in a real account before the platform is deployed.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Environment } from "../../../stacks/config";
import type { SynthesizedStack } from "../synthesized";
import { runCdktf } from "../cdktf-cli";
import { AWS_PROVIDER_VERSION, terraform, terraformEnv } from "../terraform-cli";
import { init, must, TerraformFailed } from "../terraform-runs";
import { stateResources, type PlanJson, type StateJson } from "../terraform-json";
import type { RunningMoto } from "./server";

/** Override files Terraform merges into the stack (`*_override.tf.json`). */
const MOTO_OVERRIDE_FILE = "moto_override.tf.json";
const RELEASE_OVERRIDE_FILE = "moto_release_override.tf.json";

/**
 * Provider endpoint keys of every service the platform uses. AWS_ENDPOINT_URL (in motoEnv) sends
 * any service missing here to moto as well, so no call ever leaves loopback.
 */
const SERVICES = [
  "acm",
  "apigateway",
  "dynamodb",
  "events",
  "iam",
  "kinesis",
  "kinesisanalytics",
  "kms",
  "lambda",
  "logs",
  "organizations",
  "route53",
  "s3",
  "sns",
  "ssm",
  "sts",
];

/** Provider arguments that point it at moto. */
export function motoProvider(endpoint: string): Record<string, unknown> {
  return {
    access_key: "test",
    secret_key: "test",
    skip_credentials_validation: true,
    // Asked from moto's STS, so ARNs the provider builds carry the environment's account.
    skip_requesting_account_id: false,
    skip_metadata_api_check: "true",
    s3_use_path_style: true,
    endpoints: [Object.fromEntries(SERVICES.map((s) => [s, endpoint]))],
  };
}

/** Environment of every terraform run against moto. */
export function motoEnv(moto: RunningMoto): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** The environment a workspace selects, as the stack synthesized it. */
export function environmentOf(stack: SynthesizedStack, workspace: string): Environment {
  const environments = (stack.json.locals?.environments ?? {}) as Record<string, Environment>;
  const environment = environments[workspace];
  if (!environment) throw new Error(`stack ${stack.name} is not deployed in workspace ${workspace} (it is in: ${stack.workspaces.join(", ")})`);
  return environment;
}

export interface Prerequisites {
  /** The config's hosted zone id -> the id moto gave the zone of the same name. */
  zoneIds: Map<string, string>;
  /** The root of the organization created for stacks that manage organization units. */
  organizationRootId?: string;
  /** Where the prerequisites' own Terraform state is (destroyed last); "" when there are none. */
  dir: string;
}

/** An organization root id as AWS Organizations writes it (r- and 4 to 32 letters or digits). */
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;

/** Organization units the config places under the root, by the root's literal id. */
function unitsUnderRoot(stack: SynthesizedStack): string[] {
  const units = stack.json.resource?.aws_organizations_organizational_unit ?? {};
  return Object.keys(units).filter((name) => ROOT_ID.test(String(units[name].parent_id)));
}

/**
 * What a real account holds before the platform is deployed into it: the workspace's hosted
 * zones, and the organization when a stack manages organization units. moto gives both ids of
 * its own, so the stacks are pointed at those (see writeStackOverride); everything else is the
 * config's own.
 */
export async function createPrerequisites(
  outdir: string,
  stacks: SynthesizedStack[],
  workspace: string,
  moto: RunningMoto,
  echo = false,
): Promise<Prerequisites> {
  const zones = new Map<string, string>();
  for (const stack of stacks) {
    const { hostedZone } = environmentOf(stack, workspace);
    zones.set(hostedZone.id, hostedZone.name);
  }
  const organization = stacks.some((s) => unitsUnderRoot(s).length > 0);
  const dir = join(outdir, "moto-prerequisites");
  rmSync(dir, { recursive: true, force: true });
  if (zones.size === 0 && !organization) return { zoneIds: new Map(), dir: "" };
  mkdirSync(dir, { recursive: true });
  const resource: Record<string, unknown> = {
    aws_route53_zone: Object.fromEntries([...zones].map(([id, name]) => [id, { name, comment: `prerequisite of the platform (config id ${id})`, force_destroy: true }])),
  };
  if (organization) resource.aws_organizations_organization = { organization: { feature_set: "ALL", enabled_policy_types: ["SERVICE_CONTROL_POLICY"] } };
  const output = {
    zone_ids: Object.fromEntries([...zones.keys()].map((id) => [id, `\${aws_route53_zone.${id}.zone_id}`])),
    root_id: organization ? "${aws_organizations_organization.organization.roots[0].id}" : null,
  };
  writeFileSync(
    join(dir, "main.tf.json"),
    `${JSON.stringify(
      {
        terraform: { required_providers: { aws: { source: "hashicorp/aws", version: AWS_PROVIDER_VERSION } } },
        provider: { aws: [{ region: "us-east-1", ...motoProvider(moto.endpoint) }] },
        resource,
        output: { prerequisites: { value: output } },
      },
      null,
      2,
    )}\n`,
  );
  const run = { cwd: dir, label: "prerequisites", env: motoEnv(moto), echo };
  await init(["init", "-input=false", "-no-color"], run, "terraform init of the prerequisites");
  await must("terraform apply of the prerequisites", terraform(["apply", "-auto-approve", "-input=false", "-no-color"], run));
  const shown = await must("terraform output of the prerequisites", terraform(["output", "-json", "prerequisites"], run));
  const created = JSON.parse(shown.stdout) as { zone_ids: Record<string, string>; root_id: string | null };
  return { zoneIds: new Map(Object.entries(created.zone_ids)), organizationRootId: created.root_id ?? undefined, dir };
}

export async function destroyPrerequisites(prerequisites: Prerequisites, moto: RunningMoto, echo = false): Promise<void> {
  if (!prerequisites.dir) return;
  const run = { cwd: prerequisites.dir, label: "prerequisites", env: motoEnv(moto), echo };
  await must("terraform destroy of the prerequisites", terraform(["destroy", "-auto-approve", "-input=false", "-no-color"], run));
}

/**
 * The stack's override file: provider at moto, the workspace's environment with moto's zone ids,
 * and organization units under moto's organization root.
 */
export function writeStackOverride(stack: SynthesizedStack, workspace: string, moto: RunningMoto, prerequisites: Prerequisites) {
  const environments = structuredClone(stack.json.locals?.environments ?? {}) as Record<string, Environment>;
  const environment = environments[workspace];
  const zoneId = prerequisites.zoneIds.get(environment.hostedZone.id);
  if (!zoneId) throw new Error(`no prerequisite hosted zone for ${environment.hostedZone.id} (${stack.name})`);
  environment.hostedZone.id = zoneId;
  const override: Record<string, unknown> = { provider: { aws: [motoProvider(moto.endpoint)] }, locals: { environments } };
  const units = unitsUnderRoot(stack);
  if (units.length > 0) {
    if (!prerequisites.organizationRootId) throw new Error(`${stack.name} places organization units under the root, but no organization was created`);
    override.resource = { aws_organizations_organizational_unit: Object.fromEntries(units.map((name) => [name, { parent_id: prerequisites.organizationRootId }])) };
  }
  writeFileSync(join(stack.dir, MOTO_OVERRIDE_FILE), `${JSON.stringify(override, null, 2)}\n`);
}

function runOf(stack: SynthesizedStack, workspace: string, moto: RunningMoto, echo: boolean) {
  return { cwd: stack.dir, label: `${stack.name}/${workspace}`, env: motoEnv(moto), echo };
}

/** Selects the workspace in a stack's directory, as `cdktf deploy` expects it selected. */
export async function selectWorkspace(stack: SynthesizedStack, workspace: string, moto: RunningMoto, echo = false): Promise<void> {
  const run = runOf(stack, workspace, moto, echo);
  await init(["init", "-input=false", "-no-color"], run, `terraform init in ${stack.name}`);
  await must(`terraform workspace select ${workspace} in ${stack.name}`, terraform(["workspace", "select", "-or-create", workspace], run));
}

/**
 * `cdktf deploy` of the stacks with the pinned CLI: it synthesizes main.ts itself
 * (PLATFORM_TARGET=moto) into `outdir` and applies the stacks in dependency order, each in the
 * workspace selected in its directory, through the override files written there.
 */
export async function cdktfDeploy(outdir: string, stacks: SynthesizedStack[], moto: RunningMoto, echo = false): Promise<void> {
  const args = ["deploy", ...stacks.map((s) => s.name), "--auto-approve", "--output", outdir];
  const result = await runCdktf(args, { ...terraformEnv(), ...motoEnv(moto), PLATFORM_TARGET: "moto" }, echo);
  if (result.code !== 0) throw new TerraformFailed(`cdktf ${args.join(" ")}`, result);
}

export async function applyStack(stack: SynthesizedStack, workspace: string, moto: RunningMoto, echo = false): Promise<void> {
  const run = runOf(stack, workspace, moto, echo);
  await selectWorkspace(stack, workspace, moto, echo);
  const applied = await terraform(["apply", "-auto-approve", "-input=false", "-no-color"], run);
  if (applied.code !== 0) {
    const failure = new TerraformFailed(`terraform apply in ${stack.name}/${workspace}`, applied);
    const errors = moto.errors();
    throw errors ? new TerraformFailed(`${failure.step}; moto's log:\n${errors}\n`, applied) : failure;
  }
}

/** `terraform plan -detailed-exitcode`: the exit code (0 no changes, 2 changes) and the plan as JSON. */
export async function planStack(
  stack: SynthesizedStack,
  workspace: string,
  moto: RunningMoto,
  options: { refresh: boolean; echo?: boolean },
): Promise<{ exitCode: 0 | 2; plan: PlanJson }> {
  const run = runOf(stack, workspace, moto, options.echo ?? false);
  const label = `${stack.name}/${workspace}`;
  await must(`terraform workspace select ${workspace} in ${stack.name}`, terraform(["workspace", "select", "-or-create", workspace], run));
  const planFile = `${workspace}.moto.tfplan`;
  const args = ["plan", "-detailed-exitcode", "-input=false", "-no-color", `-out=${planFile}`];
  if (!options.refresh) args.push("-refresh=false");
  const planned = await terraform(args, run);
  if (planned.code !== 0 && planned.code !== 2) throw new TerraformFailed(`terraform plan in ${label}`, planned);
  const shown = await must(`terraform show ${planFile} in ${label}`, terraform(["show", "-json", "-no-color", planFile], run));
  return { exitCode: planned.code as 0 | 2, plan: JSON.parse(shown.stdout) as PlanJson };
}

/** `terraform show -json` of the stack's state. */
export async function showState(stack: SynthesizedStack, workspace: string, moto: RunningMoto): Promise<StateJson> {
  const run = runOf(stack, workspace, moto, false);
  const shown = await must(`terraform show in ${stack.name}/${workspace}`, terraform(["show", "-json", "-no-color"], run));
  return JSON.parse(shown.stdout) as StateJson;
}

/**
 * `terraform destroy`. Tables with deletion protection are first updated to allow deletion, as
 * an operator tearing down a real environment must do (AWS refuses DeleteTable otherwise).
 */
export async function destroyStack(stack: SynthesizedStack, workspace: string, moto: RunningMoto, echo = false): Promise<void> {
  const run = runOf(stack, workspace, moto, echo);
  const state = await showState(stack, workspace, moto);
  const protectedTables = stateResources(state).filter((r) => r.type === "aws_dynamodb_table" && r.values.deletion_protection_enabled === true);
  if (protectedTables.length > 0) {
    const release = { resource: { aws_dynamodb_table: Object.fromEntries(protectedTables.map((r) => [r.name, { deletion_protection_enabled: false }])) } };
    writeFileSync(join(stack.dir, RELEASE_OVERRIDE_FILE), JSON.stringify(release));
    try {
      const targets = protectedTables.map((r) => `-target=${r.address}`);
      await must(`terraform apply (deletion protection off) in ${run.label}`, terraform(["apply", "-auto-approve", "-input=false", "-no-color", ...targets], run));
    } finally {
      rmSync(join(stack.dir, RELEASE_OVERRIDE_FILE));
    }
  }
  await must(`terraform destroy in ${run.label}`, terraform(["destroy", "-auto-approve", "-input=false", "-no-color"], run));
  const left = stateResources(await showState(stack, workspace, moto));
  if (left.length > 0) throw new Error(`terraform destroy in ${run.label} left ${left.length} resources in the state: ${left.map((r) => r.address).join(", ")}`);
}
