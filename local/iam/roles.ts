// IAM roles and policies as Terraform creates them (IAM is global to the account): what the
// local cloud evaluates when an integration uses a role or a caller presents STS credentials.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PolicyDocument } from "./evaluator";

const AWS_MANAGED: Record<string, PolicyDocument> = JSON.parse(
  readFileSync(fileURLToPath(new URL("./aws-managed-policies.json", import.meta.url)), "utf8"),
);

export interface Role {
  name: string;
  arn: string;
  trustPolicy: PolicyDocument;
  inlinePolicies: Map<string, PolicyDocument>;
  attachedPolicyArns: Set<string>;
  maxSessionDurationSeconds: number;
}

export class IamError extends Error {
  constructor(
    readonly code: "NoSuchEntity" | "EntityAlreadyExists" | "MalformedPolicyDocument",
    message: string,
  ) {
    super(message);
  }
}

export function parsePolicy(text: unknown, what: string): PolicyDocument {
  const document = typeof text === "string" ? safeParse(text, what) : text;
  if (!document || typeof document !== "object" || !("Statement" in (document as object))) {
    throw new IamError("MalformedPolicyDocument", `${what}: a policy document needs a Statement`);
  }
  return document as PolicyDocument;
}

function safeParse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new IamError("MalformedPolicyDocument", `${what}: not JSON: ${(error as Error).message}`);
  }
}

export class IamRoles {
  private readonly roles = new Map<string, Role>();
  private readonly managed = new Map<string, PolicyDocument>(Object.entries(AWS_MANAGED));

  constructor(readonly accountId: string) {}

  createRole(input: { name: string; assumeRolePolicy: string; maxSessionDuration?: number; path?: string }): Role {
    if (this.roles.has(input.name)) throw new IamError("EntityAlreadyExists", `Role with name ${input.name} already exists.`);
    const role: Role = {
      name: input.name,
      arn: `arn:aws:iam::${this.accountId}:role${input.path ?? "/"}${input.name}`,
      trustPolicy: parsePolicy(input.assumeRolePolicy, `role ${input.name} trust policy`),
      inlinePolicies: new Map(),
      attachedPolicyArns: new Set(),
      maxSessionDurationSeconds: input.maxSessionDuration ?? 3600,
    };
    this.roles.set(role.name, role);
    return role;
  }

  createPolicy(arn: string, document: string) {
    this.managed.set(arn, parsePolicy(document, `policy ${arn}`));
  }

  role(nameOrArn: string): Role {
    const name = nameOrArn.startsWith("arn:") ? nameOrArn.slice(nameOrArn.lastIndexOf("/") + 1) : nameOrArn;
    const role = this.roles.get(name);
    if (!role) throw new IamError("NoSuchEntity", `The role with name ${name} cannot be found.`);
    return role;
  }

  allRoles(): Role[] {
    return [...this.roles.values()];
  }

  hasRole(nameOrArn: string): boolean {
    try {
      this.role(nameOrArn);
      return true;
    } catch {
      return false;
    }
  }

  putRolePolicy(roleName: string, policyName: string, document: string) {
    this.role(roleName).inlinePolicies.set(policyName, parsePolicy(document, `role ${roleName} policy ${policyName}`));
  }

  attachRolePolicy(roleName: string, policyArn: string) {
    if (!this.managed.has(policyArn)) {
      throw new IamError("NoSuchEntity", `Policy ${policyArn} does not exist or is not attachable (the local cloud knows the AWS managed policies in local/iam/aws-managed-policies.json)`);
    }
    this.role(roleName).attachedPolicyArns.add(policyArn);
  }

  /** Inline and attached policies of a role: its identity-based policies. */
  identityPolicies(roleNameOrArn: string): PolicyDocument[] {
    const role = this.role(roleNameOrArn);
    return [...role.inlinePolicies.values(), ...[...role.attachedPolicyArns].map((arn) => this.managed.get(arn)!)];
  }
}
