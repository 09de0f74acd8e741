// SSM Parameter Store for the local cloud: parameters per region, as `aws_ssm_parameter`
// creates them. A SecureString is handed out as ciphertext unless the caller asks for decryption,
// as SSM does; the "ciphertext" here only marks the difference, it protects nothing.
import { AwsServiceError } from "../lib/aws-wire";

export const PARAMETER_TYPES = ["String", "StringList", "SecureString"] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModified: Date;
}

export class SsmState {
  private readonly parameters = new Map<string, StoredParameter>(); // by region + name

  constructor(
    private readonly accountId: string,
    /** The local cloud's clock (epoch ms): parameters' LastModifiedDate. */
    private readonly now: () => number = Date.now,
  ) {}

  putParameter(region: string, input: { name: string; type: string; value: string; overwrite?: boolean }): number {
    if (!/^\/?[\w.\-/]{1,2048}$/.test(input.name)) throw new AwsServiceError("ValidationException", `Parameter name "${input.name}" may use only letters, digits and . - _ /`);
    if (!(PARAMETER_TYPES as readonly string[]).includes(input.type)) {
      throw new AwsServiceError("ValidationException", `Parameter type must be one of ${PARAMETER_TYPES.join(", ")}, got ${input.type}`);
    }
    const key = `${region}:${input.name}`;
    const existing = this.parameters.get(key);
    if (existing && !input.overwrite) throw new AwsServiceError("ParameterAlreadyExists", `The parameter ${input.name} already exists.`);
    const version = (existing?.version ?? 0) + 1;
    this.parameters.set(key, { name: input.name, type: input.type as ParameterType, value: input.value, version, lastModified: new Date(this.now()) });
    return version;
  }

  getParameter(region: string, name: string, withDecryption: boolean) {
    const parameter = this.parameters.get(`${region}:${name}`);
    if (!parameter) throw new AwsServiceError("ParameterNotFound", `Parameter ${name} not found.`);
    const hidden = parameter.type === "SecureString" && !withDecryption;
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: hidden ? Buffer.from(`local-kms:${parameter.value}`).toString("base64") : parameter.value,
      Version: parameter.version,
      LastModifiedDate: parameter.lastModified.getTime() / 1000,
      ARN: this.arn(region, parameter.name),
      DataType: "text",
    };
  }

  arn(region: string, name: string): string {
    return `arn:aws:ssm:${region}:${this.accountId}:parameter${name.startsWith("/") ? "" : "/"}${name}`;
  }
}
