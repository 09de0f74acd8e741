// What the edge endpoint knows of a service: how it speaks (for errors), what each call needs
// from IAM, the resource policies it keeps, and how it answers. Services implement this beside
// their state (`local/<service>/api.ts`); the edge authenticates and authorizes before `handle`.
import type { HttpRequest, HttpResponse } from "../lib/http-serve";
import type { AwsProtocol } from "../lib/aws-protocols";
import type { PolicyDocument } from "../iam/evaluator";
import type { Caller } from "../sts/credentials";

export interface EdgeCall {
  request: HttpRequest;
  /** The signing name of the service (`dynamodb`, `s3`, ...). */
  service: string;
  region: string;
  /** Who signed the request; absent only for operations the service takes unsigned. */
  caller?: Caller;
  requestId: string;
  /** Whether the caller may do `action` on `resource` (for answers that depend on it, as S3's 403 for a missing key). */
  allowed(action: string, resource: string): boolean;
}

/** One permission a call needs: the IAM action, the resource ARN (`*` for none), condition keys. */
export interface Requirement {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export interface ResourcePolicy {
  documents: PolicyDocument[];
  /** KMS key policies: the policy must allow, directly or by delegating to the account. */
  required?: boolean;
  /** The account that owns the resource. */
  account?: string;
}

export interface EdgeService {
  protocol: AwsProtocol;
  /** For a service clients reach in more than one protocol (CloudWatch: JSON and query): the request's. */
  protocolOf?(request: HttpRequest): AwsProtocol;
  /** The service's code for a refused caller when it is not the protocol's usual one (SNS: AuthorizationError). */
  accessDeniedCode?: string;
  /** Global services (IAM, STS, Route 53, S3) take a signature for any region. */
  global?: boolean;
  /** Requests the service accepts unsigned (STS AssumeRoleWithSAML: the assertion is the credential). */
  acceptsUnsigned?(request: HttpRequest): boolean;
  /** The permissions the call needs; throws an AwsServiceError for a malformed request. */
  requirements(call: EdgeCall): Requirement[] | Promise<Requirement[]>;
  /** The resource's own policy, for services that have them (S3 buckets, KMS keys, Lambda functions, SNS topics). */
  resourcePolicy?(resource: string, call: EdgeCall): ResourcePolicy | undefined;
  handle(call: EdgeCall): Promise<HttpResponse>;
}
