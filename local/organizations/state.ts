// AWS Organizations for the local cloud, without the wire protocol: organizations (one per
// management account), their root, OUs, member accounts, policies and attachments, and the SCPs
// that apply to an account. Behaviour follows the Organizations User Guide and API Reference:
// - FullAWSAccess (p-FullAWSAccess, AWS managed) is attached to the root, every OU and every
//   account when the SCP policy type is enabled, and to each OU and account created or joined
//   after ("Attaching and detaching SCPs").
// - An SCP applies only while the policy type is enabled on the root; the management account is
//   never restricted by SCPs; every level from the root to the account must allow ("SCP effects on
//   permissions", "How SCPs work").
// - At most 5 SCPs per target; a target keeps at least one SCP; SCP documents are at most 5,120
//   characters ("Quotas and service limits"): ConstraintViolationException otherwise.
// Persisted under the data directory, so that the walk-out of FullAWSAccess survives restarts.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PolicyDocument } from "../iam/evaluator";
import { AwsServiceError } from "../lib/aws-wire";

export const FULL_AWS_ACCESS_ID = "p-FullAWSAccess";
export const SCP = "SERVICE_CONTROL_POLICY";
const FULL_AWS_ACCESS_CONTENT = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
const MAX_SCP_CHARACTERS = 5120;
const MAX_SCPS_PER_TARGET = 5;
const POLICY_TYPES = ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2"];

export interface Policy {
  id: string;
  arn: string;
  name: string;
  description: string;
  type: string;
  content: string;
  awsManaged: boolean;
}

export interface OrganizationalUnit {
  id: string;
  arn: string;
  name: string;
  parentId: string;
}

export interface MemberAccount {
  id: string;
  arn: string;
  name: string;
  email: string;
  parentId: string;
  status: "ACTIVE";
  joinedMethod: "INVITED" | "CREATED";
  joinedTimestamp: string;
}

export interface Organization {
  id: string;
  arn: string;
  masterAccountId: string;
  featureSet: "ALL" | "CONSOLIDATED_BILLING";
  root: { id: string; arn: string; name: string; policyTypes: { type: string; status: "ENABLED" }[] };
  ous: OrganizationalUnit[];
  accounts: MemberAccount[];
  policies: Policy[];
  /** target id -> policy ids */
  attachments: Record<string, string[]>;
}

const error = (code: string, message: string, status = 400) => new AwsServiceError(code, message, status);

export class OrganizationsState {
  private readonly organizations = new Map<string, Organization>();
  private readonly file?: string;

  private readonly now: () => number;

  /** `now`: the local cloud's clock (epoch ms), for accounts' join times. */
  constructor(options: { dataDir?: string; now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    if (options.dataDir) {
      this.file = join(options.dataDir, "organizations", "organizations.json");
      if (existsSync(this.file)) for (const org of JSON.parse(readFileSync(this.file, "utf8")) as Organization[]) this.organizations.set(org.id, org);
    }
  }

  /**
   * The organization `id` of a management account, as it exists outside Terraform (an import):
   * made now, with all features and no policy type enabled (as CreateOrganization leaves it), if
   * the local cloud has not seen it before.
   */
  adopt(id: string, masterAccountId: string): Organization {
    if (!/^o-[a-z0-9]{10,32}$/.test(id)) throw error("InvalidInputException", `${id} is not an organization id (o- and 10 to 32 lower-case letters or digits)`);
    const existing = this.organizations.get(id);
    if (existing) {
      if (existing.masterAccountId !== masterAccountId) throw error("AccessDeniedException", `Organization ${id} is managed by account ${existing.masterAccountId}, not ${masterAccountId}`);
      return existing;
    }
    const other = this.organizationOf(masterAccountId);
    if (other) throw error("AlreadyInOrganizationException", `Account ${masterAccountId} already belongs to organization ${other.id}`);
    const rootId = `r-${hash(id, 4)}`;
    const org: Organization = {
      id,
      arn: `arn:aws:organizations::${masterAccountId}:organization/${id}`,
      masterAccountId,
      featureSet: "ALL",
      root: { id: rootId, arn: `arn:aws:organizations::${masterAccountId}:root/${id}/${rootId}`, name: "Root", policyTypes: [] },
      ous: [],
      accounts: [],
      policies: [],
      attachments: {},
    };
    this.organizations.set(id, org);
    this.join(org, masterAccountId, "management", "", "CREATED", rootId);
    this.persist();
    return org;
  }

  organization(id: string): Organization {
    const org = this.organizations.get(id);
    if (!org) throw error("AWSOrganizationsNotInUseException", `Organization ${id} does not exist`);
    return org;
  }

  /** Every account of every organization. */
  accountIds(): string[] {
    return [...this.organizations.values()].flatMap((o) => o.accounts.map((a) => a.id));
  }

  /** The organization an account belongs to (its management account's or a member's). */
  organizationOf(accountId: string): Organization | undefined {
    return [...this.organizations.values()].find((o) => o.accounts.some((a) => a.id === accountId));
  }

  enablePolicyType(org: Organization, type: string): void {
    if (!POLICY_TYPES.includes(type)) throw error("InvalidInputException", `Unknown policy type ${type}`);
    if (org.root.policyTypes.some((t) => t.type === type)) throw error("PolicyTypeAlreadyEnabledException", `The policy type ${type} is already enabled on the root`);
    org.root.policyTypes.push({ type, status: "ENABLED" });
    if (type === SCP) {
      // Enabling SCPs attaches FullAWSAccess everywhere, so that nothing is blocked until you say so.
      for (const target of [org.root.id, ...org.ous.map((o) => o.id), ...org.accounts.map((a) => a.id)]) this.attach(org, FULL_AWS_ACCESS_ID, target);
    }
    this.persist();
  }

  disablePolicyType(org: Organization, type: string): void {
    if (!org.root.policyTypes.some((t) => t.type === type)) throw error("PolicyTypeNotEnabledException", `The policy type ${type} is not enabled on the root`);
    org.root.policyTypes = org.root.policyTypes.filter((t) => t.type !== type);
    // Disabling a type detaches every policy of that type.
    const ofType = new Set(this.policies(org).filter((p) => p.type === type).map((p) => p.id));
    for (const target of Object.keys(org.attachments)) org.attachments[target] = org.attachments[target].filter((id) => !ofType.has(id));
    this.persist();
  }

  scpEnabled(org: Organization): boolean {
    return org.root.policyTypes.some((t) => t.type === SCP);
  }

  createOrganizationalUnit(org: Organization, parentId: string, name: string): OrganizationalUnit {
    this.parent(org, parentId);
    if (!/^[\s\S]{1,128}$/.test(name)) throw error("InvalidInputException", "An OU name is 1 to 128 characters");
    if (org.ous.some((o) => o.parentId === parentId && o.name === name)) {
      throw error("DuplicateOrganizationalUnitException", `An OU named ${name} already exists under ${parentId}`);
    }
    const id = `ou-${org.root.id.slice(2)}-${randomBytes(4).toString("hex")}`;
    const ou: OrganizationalUnit = { id, arn: `arn:aws:organizations::${org.masterAccountId}:ou/${org.id}/${id}`, name, parentId };
    org.ous.push(ou);
    if (this.scpEnabled(org)) this.attach(org, FULL_AWS_ACCESS_ID, id);
    this.persist();
    return ou;
  }

  createPolicy(org: Organization, input: { name: string; description: string; type: string; content: string }): Policy {
    if (!POLICY_TYPES.includes(input.type)) throw error("InvalidInputException", `Unknown policy type ${input.type}`);
    if (this.policies(org).some((p) => p.name === input.name && p.type === input.type)) {
      throw error("DuplicatePolicyException", `A policy named ${input.name} already exists`);
    }
    if (input.type === SCP) validateScp(input.content);
    const id = `p-${randomBytes(4).toString("hex")}`;
    const policy: Policy = {
      ...input,
      id,
      arn: `arn:aws:organizations::${org.masterAccountId}:policy/${org.id}/${input.type.toLowerCase()}/${id}`,
      awsManaged: false,
    };
    org.policies.push(policy);
    this.persist();
    return policy;
  }

  updatePolicy(org: Organization, id: string, content: string): Policy {
    const policy = org.policies.find((p) => p.id === id);
    if (!policy) throw error("PolicyNotFoundException", `We can't find a policy you may change with the PolicyId ${id}`);
    if (policy.type === SCP) validateScp(content);
    policy.content = content;
    this.persist();
    return policy;
  }

  /** The organization's policies with the AWS managed FullAWSAccess. */
  policies(org: Organization): Policy[] {
    return [
      {
        id: FULL_AWS_ACCESS_ID,
        arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        name: "FullAWSAccess",
        description: "Allows access to every operation",
        type: SCP,
        content: FULL_AWS_ACCESS_CONTENT,
        awsManaged: true,
      },
      ...org.policies,
    ];
  }

  policy(org: Organization, id: string): Policy {
    const policy = this.policies(org).find((p) => p.id === id);
    if (!policy) throw error("PolicyNotFoundException", `We can't find a policy with the PolicyId that you specified: ${id}`);
    return policy;
  }

  attachPolicy(org: Organization, policyId: string, targetId: string): void {
    const policy = this.policy(org, policyId);
    this.target(org, targetId);
    if (policy.type === SCP && !this.scpEnabled(org)) throw error("PolicyTypeNotEnabledException", `The policy type ${SCP} is not enabled on the root: EnablePolicyType first`);
    if ((org.attachments[targetId] ?? []).includes(policyId)) throw error("DuplicatePolicyAttachmentException", `The policy ${policyId} is already attached to ${targetId}`);
    const scps = (org.attachments[targetId] ?? []).filter((id) => this.policy(org, id).type === SCP);
    if (policy.type === SCP && scps.length >= MAX_SCPS_PER_TARGET) {
      throw error("ConstraintViolationException", `You have attached the maximum number of policies (${MAX_SCPS_PER_TARGET}) of type ${SCP} to ${targetId} (POLICY_NUMBER_LIMIT_EXCEEDED)`);
    }
    this.attach(org, policyId, targetId);
    this.persist();
  }

  detachPolicy(org: Organization, policyId: string, targetId: string): void {
    const policy = this.policy(org, policyId);
    this.target(org, targetId);
    const attached = org.attachments[targetId] ?? [];
    if (!attached.includes(policyId)) throw error("PolicyNotAttachedException", `The policy ${policyId} is not attached to ${targetId}`);
    if (policy.type === SCP && attached.filter((id) => this.policy(org, id).type === SCP).length === 1) {
      throw error("ConstraintViolationException", `You cannot remove the last SCP attached to ${targetId} (MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED)`);
    }
    org.attachments[targetId] = attached.filter((id) => id !== policyId);
    this.persist();
  }

  policiesForTarget(org: Organization, targetId: string, type: string): Policy[] {
    this.target(org, targetId);
    return (org.attachments[targetId] ?? []).map((id) => this.policy(org, id)).filter((p) => p.type === type);
  }

  targetsForPolicy(org: Organization, policyId: string): string[] {
    this.policy(org, policyId);
    return Object.entries(org.attachments).filter(([, ids]) => ids.includes(policyId)).map(([target]) => target);
  }

  /** An existing account joins the organization (an invitation accepted), or is found in it. */
  joinAccount(org: Organization, accountId: string, name: string, email: string): MemberAccount {
    const member = org.accounts.find((a) => a.id === accountId);
    if (member) return member;
    const elsewhere = this.organizationOf(accountId);
    if (elsewhere) throw error("AlreadyInOrganizationException", `Account ${accountId} belongs to organization ${elsewhere.id}`);
    const joined = this.join(org, accountId, name, email, "INVITED", org.root.id);
    this.persist();
    return joined;
  }

  moveAccount(org: Organization, accountId: string, destinationParentId: string): MemberAccount {
    const account = org.accounts.find((a) => a.id === accountId);
    if (!account) throw error("AccountNotFoundException", `Account ${accountId} is not in organization ${org.id}`);
    this.parent(org, destinationParentId);
    account.parentId = destinationParentId;
    this.persist();
    return account;
  }

  /**
   * The SCPs that apply to an account: one level per step from the root down to the account, each
   * the documents attached there. None for the management account or while SCPs are disabled.
   */
  scpsFor(accountId: string): PolicyDocument[][] {
    const org = this.organizationOf(accountId);
    if (!org || org.masterAccountId === accountId || !this.scpEnabled(org)) return [];
    const chain: string[] = [accountId];
    for (let parent = org.accounts.find((a) => a.id === accountId)!.parentId; parent !== org.root.id; parent = org.ous.find((o) => o.id === parent)!.parentId) chain.unshift(parent);
    chain.unshift(org.root.id);
    return chain.map((target) => this.policiesForTarget(org, target, SCP).map((p) => JSON.parse(p.content) as PolicyDocument));
  }

  private join(org: Organization, accountId: string, name: string, email: string, method: MemberAccount["joinedMethod"], parentId: string): MemberAccount {
    const account: MemberAccount = {
      id: accountId,
      arn: `arn:aws:organizations::${org.masterAccountId}:account/${org.id}/${accountId}`,
      name,
      email,
      parentId,
      status: "ACTIVE",
      joinedMethod: method,
      joinedTimestamp: new Date(this.now()).toISOString(),
    };
    org.accounts.push(account);
    if (this.scpEnabled(org)) this.attach(org, FULL_AWS_ACCESS_ID, accountId);
    return account;
  }

  private attach(org: Organization, policyId: string, targetId: string) {
    const attached = (org.attachments[targetId] ??= []);
    if (!attached.includes(policyId)) attached.push(policyId);
  }

  private parent(org: Organization, id: string) {
    if (id !== org.root.id && !org.ous.some((o) => o.id === id)) throw error("ParentNotFoundException", `We can't find a root or OU with the ParentId that you specified: ${id}`);
  }

  private target(org: Organization, id: string) {
    if (id !== org.root.id && !org.ous.some((o) => o.id === id) && !org.accounts.some((a) => a.id === id)) {
      throw error("TargetNotFoundException", `We can't find a root, OU or account with the TargetId that you specified: ${id}`);
    }
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(join(this.file, ".."), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify([...this.organizations.values()]));
    renameSync(`${this.file}.tmp`, this.file);
  }
}

function validateScp(content: string) {
  let document: unknown;
  try {
    document = JSON.parse(content);
  } catch {
    throw error("MalformedPolicyDocumentException", "The provided policy document is not valid JSON");
  }
  if (!document || typeof document !== "object" || !("Statement" in document)) throw error("MalformedPolicyDocumentException", "The provided policy document has no Statement");
  if (content.length > MAX_SCP_CHARACTERS) {
    throw error("ConstraintViolationException", `The policy is ${content.length} characters, more than ${MAX_SCP_CHARACTERS} (POLICY_CONTENT_LIMIT_EXCEEDED)`);
  }
}

function hash(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}
