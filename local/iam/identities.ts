// IAM of one account (IAM is global to the account): roles and policies as Terraform creates
// them, and users (the account's administrator, whose access keys the local cloud hands out).
// What the local cloud evaluates for every signed call, whoever makes it.
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

export interface User {
  name: string;
  arn: string;
  attachedPolicyArns: Set<string>;
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

export class IamIdentities {
  private readonly roles = new Map<string, Role>();
  private readonly users = new Map<string, User>();
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

  createUser(name: string, attachedPolicyArns: string[] = []): User {
    if (this.users.has(name)) throw new IamError("EntityAlreadyExists", `User with name ${name} already exists.`);
    const unknown = attachedPolicyArns.filter((arn) => !this.managed.has(arn));
    if (unknown.length) throw new IamError("NoSuchEntity", `Policy ${unknown.join(", ")} does not exist or is not attachable.`);
    const user: User = { name, arn: `arn:aws:iam::${this.accountId}:user/${name}`, attachedPolicyArns: new Set(attachedPolicyArns) };
    this.users.set(name, user);
    return user;
  }

  attachUserPolicy(name: string, policyArn: string): void {
    const user = this.users.get(name);
    if (!user) throw new IamError("NoSuchEntity", `The user with name ${name} cannot be found.`);
    if (!this.managed.has(policyArn)) throw new IamError("NoSuchEntity", `Policy ${policyArn} does not exist or is not attachable.`);
    user.attachedPolicyArns.add(policyArn);
  }

  detachUserPolicy(name: string, policyArn: string): void {
    this.users.get(name)?.attachedPolicyArns.delete(policyArn);
  }

  hasUser(name: string): boolean {
    return this.users.has(name);
  }

  /** The managed policy documents by ARN (AWS managed and the account's own). */
  managedPolicy(arn: string): PolicyDocument | undefined {
    return this.managed.get(arn);
  }

  /**
   * The identity-based policies of a role (by name or ARN) or a user (by ARN): its inline and
   * attached managed policies.
   */
  identityPolicies(nameOrArn: string): PolicyDocument[] {
    const user = /^arn:aws:iam::\d{12}:user\/(.+)$/.exec(nameOrArn)?.[1];
    if (user !== undefined) {
      const found = this.users.get(user.slice(user.lastIndexOf("/") + 1));
      if (!found) throw new IamError("NoSuchEntity", `The user with name ${user} cannot be found.`);
      return [...found.attachedPolicyArns].map((arn) => this.managed.get(arn)!);
    }
    const role = this.role(nameOrArn);
    return [...role.inlinePolicies.values(), ...[...role.attachedPolicyArns].map((arn) => this.managed.get(arn)!)];
  }
}
