// Terraform resource types of S3.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RegionServices } from "../cloud/services";
import { DeployError, type ResourceHandler } from "../deployer/types";
import { evaluate, type PolicyDocument } from "../iam/evaluator";
import type { EncryptionAlgorithm } from "./state";

type Handler = ResourceHandler<RegionServices>;

/** A policy is public when it lets an anonymous caller read an object (what BlockPublicPolicy checks, simplified). */
export function grantsPublicRead(policy: PolicyDocument, bucket: string): boolean {
  const request = { action: "s3:GetObject", resource: `arn:aws:s3:::${bucket}/index.html`, principal: { type: "AWS" as const, id: "*" } };
  return evaluate(request, { resourcePolicies: [policy] }).decision === "Allow";
}

const single = <T>(value: T | T[] | undefined): T | undefined => (Array.isArray(value) ? value[0] : value);

export const s3Resources: Record<string, Handler> = {
  aws_s3_bucket: ({ config, services, region }) => {
    const name: string = config.bucket;
    // On a restart the bucket (and its objects) is already there, as it is for a Terraform update.
    if (!services.s3.listBuckets().some((b) => b.name === name)) services.s3.createBucket(name, region);
    return {
      id: name,
      arn: `arn:aws:s3:::${name}`,
      bucket_domain_name: `${name}.s3.amazonaws.com`,
      bucket_regional_domain_name: `${name}.s3.${region}.amazonaws.com`,
      region,
    };
  },

  aws_s3_bucket_public_access_block: ({ config, services }) => {
    services.s3.putPublicAccessBlock(config.bucket, {
      blockPublicAcls: config.block_public_acls === true,
      ignorePublicAcls: config.ignore_public_acls === true,
      blockPublicPolicy: config.block_public_policy === true,
      restrictPublicBuckets: config.restrict_public_buckets === true,
    });
    return { id: config.bucket };
  },

  aws_s3_bucket_server_side_encryption_configuration: ({ config, services }) => {
    const rule = single(config.rule);
    const byDefault = single(rule?.apply_server_side_encryption_by_default);
    services.s3.putBucketEncryption(config.bucket, {
      algorithm: byDefault?.sse_algorithm as EncryptionAlgorithm,
      kmsKeyId: byDefault?.kms_master_key_id ?? undefined,
      bucketKeyEnabled: rule?.bucket_key_enabled === true,
    });
    return { id: config.bucket };
  },

  aws_s3_bucket_policy: ({ config, services, address }) => {
    let policy: PolicyDocument;
    try {
      policy = JSON.parse(config.policy);
    } catch (error) {
      throw new DeployError("INVALID_ARGUMENT", `${address}: policy is not JSON: ${(error as Error).message}`);
    }
    services.s3.putBucketPolicy(config.bucket, config.policy, grantsPublicRead(policy, config.bucket));
    return { id: config.bucket };
  },

  aws_s3_bucket_website_configuration: ({ config, services, region }) => {
    const index = single(config.index_document)?.suffix;
    if (typeof index !== "string") throw new DeployError("INVALID_ARGUMENT", `aws_s3_bucket_website_configuration for ${config.bucket} needs index_document.suffix`);
    services.s3.putWebsite(config.bucket, { indexDocument: index, errorDocument: single(config.error_document)?.key ?? undefined });
    return {
      id: config.bucket,
      website_endpoint: `${config.bucket}.s3-website-${region}.amazonaws.com`,
      website_domain: `s3-website-${region}.amazonaws.com`,
    };
  },

  aws_s3_object: ({ config, services, stack, address }) => {
    // `source` is relative to the stack's directory, where CDKTF puts its assets.
    if (config.source == null && config.content == null) throw new DeployError("INVALID_ARGUMENT", `${address}: needs source or content`);
    const body = config.source != null ? readFileSync(join(stack.dir, config.source)) : Buffer.from(String(config.content), "utf8");
    const object = services.s3.putObject(config.bucket, config.key, body, {
      contentType: config.content_type ?? undefined,
      cacheControl: config.cache_control ?? undefined,
    });
    return { id: config.key, etag: object.etag.replace(/"/g, ""), version_id: "" };
  },
};
