// What every stack of the platform shares: the workspace -> environment selection, the state
// backend, and an AWS provider that assumes the deploy role of the selected account.
import { Construct } from "constructs";
import {
  DataTerraformRemoteStateLocal,
  DataTerraformRemoteStateS3,
  LocalBackend,
  S3Backend,
  TerraformRemoteState,
  TerraformStack,
} from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { PlatformConfig } from "./config";
import { WorkspaceEnvironment } from "./workspace-environment";

/**
 * `aws`: S3 state with workspace key prefixes and locking, the provider assumes the deploy role.
 * `offline`: local state and no role, for `terraform plan -refresh=false` without credentials.
 * `moto`: `offline` without what the moto AWS emulator cannot create (stacks/moto-target.ts).
 */
export type DeployTarget = "aws" | "offline" | "moto";
export const DEPLOY_TARGETS: readonly DeployTarget[] = ["aws", "offline", "moto"];

export interface PlatformStackProps {
  config: PlatformConfig;
  target: DeployTarget;
  /** Region of the stack's AWS provider. */
  region: string;
  /** Role the provider assumes when deploying to AWS; defaults to the environment's deploy role. */
  deployRoleArn?: string;
  /** The account that role must be in: the provider refuses any other. Defaults to the environment's account. */
  accountId?: string;
  /** Workspaces this stack is deployed in; default: every environment. */
  workspaces?: string[];
}

export abstract class PlatformStack extends TerraformStack {
  readonly environment: WorkspaceEnvironment;
  readonly region: string;
  protected readonly config: PlatformConfig;
  protected readonly target: DeployTarget;

  constructor(scope: Construct, readonly stackName: string, props: PlatformStackProps) {
    super(scope, stackName);
    this.config = props.config;
    this.target = props.target;
    this.region = props.region;
    const environments = Object.fromEntries(
      Object.entries(props.config.environments).filter(([name]) => props.workspaces?.includes(name) ?? true),
    );
    this.environment = new WorkspaceEnvironment(this, "workspace-environment", stackName, environments);

    if (props.target === "aws") {
      const state = props.config.stateBackend;
      new S3Backend(this, {
        bucket: state.bucket,
        region: state.region,
        key: stateKey(state.keyPrefix, stackName),
        workspaceKeyPrefix: `${state.keyPrefix}/workspaces`,
        encrypt: true,
        ...(state.roleArn ? { assumeRole: { roleArn: state.roleArn } } : {}),
      });
      // S3-native state locking (Terraform >= 1.10); the DynamoDB lock table is deprecated.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      new LocalBackend(this, { path: localStatePath(stackName) });
    }

    new AwsProvider(this, "aws", {
      region: props.region,
      defaultTags: [
        {
          tags: {
            Project: props.config.project,
            Environment: this.environment.name,
            Stack: stackName,
            ManagedBy: "cdktf",
          },
        },
      ],
      ...(props.target === "aws"
        ? {
            assumeRole: [
              {
                roleArn: props.deployRoleArn ?? this.environment.string("deployRoleArn"),
                sessionName: `${props.config.project}-${stackName}`,
              },
            ],
            // A workspace pointed at the wrong credentials must not touch another account.
            allowedAccountIds: [props.accountId ?? this.environment.string("accountId")],
          }
        : {
            skipCredentialsValidation: true,
            skipRequestingAccountId: true,
            skipMetadataApiCheck: "true",
          }),
    });
  }

  /**
   * Reads the outputs of another stack of this app, in the same workspace. With the offline
   * target, `offlineDefaults` stand in for outputs of stacks that were never applied, so that
   * an offline plan can still be computed.
   */
  protected remoteState(id: string, otherStack: string, offlineDefaults: Record<string, string>): TerraformRemoteState {
    const workspace = this.environment.name;
    if (this.target === "aws") {
      const state = this.config.stateBackend;
      return new DataTerraformRemoteStateS3(this, id, {
        bucket: state.bucket,
        region: state.region,
        key: stateKey(state.keyPrefix, otherStack),
        workspaceKeyPrefix: `${state.keyPrefix}/workspaces`,
        workspace,
        ...(state.roleArn ? { assumeRole: { roleArn: state.roleArn } } : {}),
      });
    }
    return new DataTerraformRemoteStateLocal(this, id, {
      path: `../${otherStack}/${localStatePath(otherStack)}`,
      workspaceDir: `../${otherStack}/terraform.tfstate.d`,
      workspace,
      defaults: offlineDefaults,
    });
  }
}

function stateKey(prefix: string, stackName: string) {
  return `${prefix}/${stackName}.tfstate`;
}

function localStatePath(stackName: string) {
  return `terraform.${stackName}.tfstate`;
}
