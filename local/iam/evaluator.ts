// AWS's documented policy evaluation logic for the policy elements this platform uses
// ("Policy evaluation logic" and "Cross-account policy evaluation logic" in the IAM User Guide):
// an explicit deny anywhere wins; every level of SCPs between the root and the account must allow;
// a permissions boundary, when present, must allow; then, within one account, a resource-based
// policy that names the principal or an identity-based policy must allow. A resource-based policy
// that names the account (its id or `:root`) grants nothing by itself: it lets the account's
// identity-based policies decide. Across accounts both must allow. KMS key policies and role trust
// policies must always allow (directly, or by naming the account and then the identity policy).
// Used by the local cloud (every signed call, integration roles, trust policies) and the SCP tests.

export type Effect = "Allow" | "Deny";
type OneOrMany<T> = T | T[];

export interface PolicyStatement {
  Sid?: string;
  Effect: Effect;
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Principal?: "*" | Record<string, OneOrMany<string>>;
  NotPrincipal?: Record<string, OneOrMany<string>>;
  Condition?: Record<string, Record<string, OneOrMany<string | number | boolean>>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: OneOrMany<PolicyStatement>;
}

export interface Principal {
  /** "AWS" (role/user/account ARN), "Service" (e.g. apigateway.amazonaws.com) or "Federated" (SAML provider ARN). */
  type: "AWS" | "Service" | "Federated";
  id: string;
}

export interface AuthorizationRequest {
  action: string;
  resource: string;
  principal?: Principal;
  /** Condition keys (case-insensitive) with their values. */
  context?: Record<string, string | string[]>;
}

export interface ApplicablePolicies {
  identityPolicies?: PolicyDocument[];
  /** One entry per level from the root down to the account; each level must allow. */
  serviceControlPolicies?: PolicyDocument[][];
  resourcePolicies?: PolicyDocument[];
  permissionsBoundaries?: PolicyDocument[];
  /** KMS key policies and role trust policies: the resource policy must allow, whatever IAM says. */
  resourcePolicyRequired?: boolean;
  /** The account that owns the resource, when it may differ from the principal's. */
  resourceAccount?: string;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

/** The policy types AWS names in its access-denied messages. */
export type PolicyType = "identity-based policy" | "resource-based policy" | "service control policy" | "permissions boundary";

export interface EvaluationResult {
  decision: Decision;
  /** Which statement decided, or why nothing allowed: for error messages people act on. */
  reason: string;
  /** For a denial: the policy type that denied explicitly, or that allowed nothing. */
  policyType?: PolicyType;
}

export class PolicyEvaluationError extends Error {
  readonly code = "POLICY_UNSUPPORTED";
}

export function evaluate(request: AuthorizationRequest, policies: ApplicablePolicies): EvaluationResult {
  const groups: Array<[PolicyType, PolicyDocument[], string]> = [
    ["identity-based policy", policies.identityPolicies ?? [], "identity policy"],
    ["resource-based policy", policies.resourcePolicies ?? [], "resource policy"],
    ["permissions boundary", policies.permissionsBoundaries ?? [], "permissions boundary"],
    ...(policies.serviceControlPolicies ?? []).map((level, i): [PolicyType, PolicyDocument[], string] => ["service control policy", level, `SCP (level ${i})`]),
  ];
  for (const [policyType, documents, kind] of groups) {
    const deny = findStatement(documents, "Deny", request, "any");
    if (deny) return { decision: "ExplicitDeny", reason: `explicitly denied by ${kind} statement ${describe(deny)}`, policyType };
  }

  for (const [i, level] of (policies.serviceControlPolicies ?? []).entries()) {
    if (!findStatement(level, "Allow", request, "any")) {
      return { decision: "ImplicitDeny", reason: `no service control policy at level ${i} allows ${request.action}`, policyType: "service control policy" };
    }
  }
  if (policies.permissionsBoundaries?.length && !findStatement(policies.permissionsBoundaries, "Allow", request, "any")) {
    return { decision: "ImplicitDeny", reason: `the permissions boundary does not allow ${request.action}`, policyType: "permissions boundary" };
  }
  const resources = policies.resourcePolicies ?? [];
  const byName = findStatement(resources, "Allow", request, "named");
  const byAccount = byName ?? findStatement(resources, "Allow", request, "account");
  const identity = findStatement(policies.identityPolicies ?? [], "Allow", request, "any");
  const principalAccount = request.principal?.type === "AWS" ? accountOf(request.principal.id) : undefined;
  const crossAccount = policies.resourceAccount !== undefined && principalAccount !== undefined && principalAccount !== policies.resourceAccount;
  const allowed = crossAccount || policies.resourcePolicyRequired ? byName ?? (byAccount && identity) : byName ?? identity;
  if (allowed) return { decision: "Allow", reason: `allowed by statement ${describe(allowed)}` };
  const missing: PolicyType = (crossAccount || policies.resourcePolicyRequired) && !byAccount ? "resource-based policy" : "identity-based policy";
  return { decision: "ImplicitDeny", reason: `no policy allows ${request.action} on ${request.resource}`, policyType: missing };
}

/**
 * AWS's access-denied message for a principal: `User: <arn> is not authorized to perform:
 * <action> on resource: <arn> because no identity-based policy allows the <action> action`.
 */
export function accessDeniedMessage(principalArn: string, action: string, resource: string | undefined, result: EvaluationResult): string {
  const onResource = resource && resource !== "*" ? ` on resource: ${resource}` : "";
  const policyType = result.policyType ?? "identity-based policy";
  const why = result.decision === "ExplicitDeny" ? `with an explicit deny in ${article(policyType)} ${policyType}` : `because no ${policyType} allows the ${action} action`;
  return `User: ${principalArn} is not authorized to perform: ${action}${onResource} ${why}`;
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? "an" : "a");
const accountOf = (arn: string) => /^(?:arn:aws:(?:iam|sts)::)?(\d{12})(?::|$)/.exec(arn)?.[1];

/**
 * How a statement's Principal must match: `named` (the principal itself, its role, or `*`),
 * `account` (only through its account), `any` (either; identity policies have no Principal).
 */
type PrincipalMatch = "named" | "account" | "any";

function findStatement(documents: PolicyDocument[], effect: Effect, request: AuthorizationRequest, match: PrincipalMatch): PolicyStatement | undefined {
  for (const document of documents) {
    for (const statement of list(document.Statement)) {
      if (statement.Effect === effect && statementApplies(statement, request, match)) return statement;
    }
  }
  return undefined;
}

function statementApplies(statement: PolicyStatement, request: AuthorizationRequest, match: PrincipalMatch): boolean {
  const context = lowerCaseKeys(request.context ?? {});
  const actionMatches = (patterns: string[]) => patterns.some((p) => wildcardMatch(p, request.action, true));
  if (statement.Action !== undefined && !actionMatches(list(statement.Action))) return false;
  if (statement.NotAction !== undefined && actionMatches(list(statement.NotAction))) return false;

  const resourceMatches = (patterns: string[]) =>
    patterns.some((p) => wildcardMatch(substituteVariables(p, context), request.resource, false));
  if (statement.Resource !== undefined && !resourceMatches(list(statement.Resource))) return false;
  if (statement.NotResource !== undefined && resourceMatches(list(statement.NotResource))) return false;

  if (statement.Principal !== undefined && !principalMatches(statement.Principal, request.principal, match)) return false;
  if (statement.NotPrincipal !== undefined && principalMatches(statement.NotPrincipal, request.principal, "any")) return false;
  return conditionsHold(statement.Condition ?? {}, context);
}

function principalMatches(element: "*" | Record<string, OneOrMany<string>>, principal: Principal | undefined, match: PrincipalMatch): boolean {
  if (element === "*") return match !== "account";
  if (!principal) return false;
  return list(element[principal.type] ?? []).some((value) => {
    const named = value === "*" || value === principal.id || value === roleOfSession(principal.id);
    // An account (id or root ARN) stands for the account: it delegates to the account's policies.
    const account = /^(?:arn:aws:iam::)?(\d{12})(?::root)?$/.exec(value)?.[1];
    const ofAccount = principal.type === "AWS" && account !== undefined && accountOf(principal.id) === account;
    return match === "named" ? named : match === "account" ? ofAccount : named || ofAccount;
  });
}

/** `arn:aws:sts::1:assumed-role/R/session` -> `arn:aws:iam::1:role/R`: a role named in a policy covers its sessions. */
function roleOfSession(arn: string): string | undefined {
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return m ? `arn:aws:iam::${m[1]}:role/${m[2]}` : undefined;
}

// --- conditions ---------------------------------------------------------------------------

type Comparison = (actual: string, expected: string) => boolean;

const dateOf = (value: string) => (/^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value));
const COMPARISONS: Record<string, Comparison> = {
  stringequals: (a, e) => a === e,
  stringnotequals: (a, e) => a !== e,
  stringequalsignorecase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  stringnotequalsignorecase: (a, e) => a.toLowerCase() !== e.toLowerCase(),
  stringlike: (a, e) => wildcardMatch(e, a, false),
  stringnotlike: (a, e) => !wildcardMatch(e, a, false),
  arnequals: (a, e) => wildcardMatch(e, a, false),
  arnlike: (a, e) => wildcardMatch(e, a, false),
  arnnotequals: (a, e) => !wildcardMatch(e, a, false),
  arnnotlike: (a, e) => !wildcardMatch(e, a, false),
  numericequals: (a, e) => Number(a) === Number(e),
  numericnotequals: (a, e) => Number(a) !== Number(e),
  numericlessthan: (a, e) => Number(a) < Number(e),
  numericlessthanequals: (a, e) => Number(a) <= Number(e),
  numericgreaterthan: (a, e) => Number(a) > Number(e),
  numericgreaterthanequals: (a, e) => Number(a) >= Number(e),
  datelessthan: (a, e) => dateOf(a) < dateOf(e),
  datelessthanequals: (a, e) => dateOf(a) <= dateOf(e),
  dategreaterthan: (a, e) => dateOf(a) > dateOf(e),
  dategreaterthanequals: (a, e) => dateOf(a) >= dateOf(e),
  bool: (a, e) => a.toLowerCase() === e.toLowerCase(),
};
// For negated operators a value must differ from every expected value, not just one.
const NEGATED = new Set(["stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike", "numericnotequals"]);

function conditionsHold(condition: NonNullable<PolicyStatement["Condition"]>, context: Record<string, string[]>): boolean {
  return Object.entries(condition).every(([operatorName, keys]) =>
    Object.entries(keys).every(([key, expected]) => conditionHolds(operatorName, context[key.toLowerCase()], list(expected).map(String))),
  );
}

function conditionHolds(operatorName: string, actual: string[] | undefined, expected: string[]): boolean {
  const parsed = /^(?:(ForAnyValue|ForAllValues):)?(\w+?)(IfExists)?$/i.exec(operatorName);
  const operator = parsed?.[2].toLowerCase() ?? "";
  if (operator === "null") return (actual === undefined) === (expected[0]?.toLowerCase() === "true");
  const compare = COMPARISONS[operator];
  if (!compare) throw new PolicyEvaluationError(`condition operator ${operatorName} is not supported by the local evaluator`);
  if (actual === undefined) return parsed?.[3] !== undefined || parsed?.[1]?.toLowerCase() === "forallvalues";
  const valueMatches = (value: string) =>
    NEGATED.has(operator) ? expected.every((e) => compare(value, e)) : expected.some((e) => compare(value, e));
  return parsed?.[1]?.toLowerCase() === "forallvalues" ? actual.every(valueMatches) : actual.some(valueMatches);
}

// --- helpers --------------------------------------------------------------------------------

function list<T>(value: OneOrMany<T>): T[] {
  return Array.isArray(value) ? value : [value];
}

function lowerCaseKeys(context: Record<string, string | string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [key.toLowerCase(), list(value)]));
}

/** IAM wildcards: `*` any run of characters, `?` one character; actions compare case-insensitively. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "si" : "s").test(value);
}

/** Policy variables such as `${aws:username}` in resources; an unknown variable matches nothing. */
function substituteVariables(pattern: string, context: Record<string, string[]>): string {
  return pattern.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const special: Record<string, string> = { "*": "*", "?": "?", $: "$" };
    return special[name] ?? context[name.toLowerCase()]?.[0] ?? "\u0000";
  });
}

function describe(statement: PolicyStatement): string {
  return statement.Sid ? `"${statement.Sid}"` : JSON.stringify(statement).slice(0, 160);
}
