// The awsQuery protocol (form-encoded `Action=...&Version=...`, XML answers) as an edge service:
// SNS, STS and IAM declare their actions (the IAM action, the resources it acts on, the XML it
// answers inside `<ActionResult>`) and share the parsing, the errors and the envelope.
import { AwsServiceError } from "./aws-wire";
import { xmlEscape } from "./aws-protocols";
import type { HttpRequest, HttpResponse } from "./http-serve";
import type { EdgeCall, EdgeService, Requirement, ResourcePolicy } from "../edge/types";

export interface QueryAction<S> {
  /** The IAM action; `<iamPrefix>:<Action>` when absent; null for an action IAM does not check (GetCallerIdentity). */
  action?: string | null;
  resources?(state: S, form: URLSearchParams, call: EdgeCall): string[];
  /** The XML inside `<ActionResult>`. */
  run(state: S, form: URLSearchParams, call: EdgeCall): string | Promise<string>;
}

export interface QueryProtocolServiceOptions<S> {
  xmlns: string;
  serviceName: string;
  iamPrefix: string;
  global?: boolean;
  accessDeniedCode?: string;
  stateFor(call: EdgeCall): S;
  actions: Record<string, QueryAction<S>>;
  /** Actions taken unsigned (STS AssumeRoleWithSAML). */
  unsignedActions?: string[];
  resourcePolicy?(state: S, resource: string, call: EdgeCall): ResourcePolicy | undefined;
}

/** The form of a query-protocol request: the body of a POST, or the query string. */
export function queryForm(request: HttpRequest): URLSearchParams {
  return new URLSearchParams(request.method === "GET" ? request.rawQuery : request.body.toString("utf8"));
}

export function queryProtocolService<S>(options: QueryProtocolServiceOptions<S>): EdgeService {
  const parse = (call: EdgeCall) => {
    const form = queryForm(call.request);
    const name = form.get("Action") ?? "";
    const action = options.actions[name];
    if (!action) {
      throw new AwsServiceError("InvalidAction", `The action ${name || "(none)"} is not valid for this endpoint: the local ${options.serviceName} emulates ${Object.keys(options.actions).join(", ")}`);
    }
    return { name, action, form, state: options.stateFor(call) };
  };
  return {
    protocol: { kind: "query", xmlns: options.xmlns },
    global: options.global,
    accessDeniedCode: options.accessDeniedCode,
    acceptsUnsigned: options.unsignedActions && ((request) => options.unsignedActions!.includes(queryForm(request).get("Action") ?? "") && !request.headers.authorization),
    requirements(call): Requirement[] {
      const { name, action, form, state } = parse(call);
      if (action.action === null) return [];
      const iamAction = action.action ?? `${options.iamPrefix}:${name}`;
      return (action.resources?.(state, form, call) ?? ["*"]).map((resource) => ({ action: iamAction, resource }));
    },
    resourcePolicy: options.resourcePolicy && ((resource, call) => options.resourcePolicy!(options.stateFor(call), resource, call)),
    async handle(call): Promise<HttpResponse> {
      const { name, action, form, state } = parse(call);
      const result = await action.run(state, form, call);
      return {
        status: 200,
        headers: { "content-type": "text/xml", "x-amzn-requestid": call.requestId },
        body: `<${name}Response xmlns="${options.xmlns}"><${name}Result>${result}</${name}Result><ResponseMetadata><RequestId>${call.requestId}</RequestId></ResponseMetadata></${name}Response>`,
      };
    },
  };
}

/** A required parameter, or the query services' MissingParameter error naming it. */
export function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === "") throw new AwsServiceError("MissingParameter", `The request must contain the parameter ${name}`);
  return value;
}

export const xml = (tag: string, value: string | number | boolean) => `<${tag}>${xmlEscape(String(value))}</${tag}>`;
