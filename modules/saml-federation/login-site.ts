// The login page's S3 website bucket (primary region): the files of web/ and a config.json that
// tells the page where the API and the IdP are. An S3 website serves anonymous GETs, so the
// bucket allows public s3:GetObject, and nothing else; its objects are encrypted at rest.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import { App, AssetType, Fn, TerraformAsset } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketWebsiteConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-website-configuration";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { buildLoginPage } from "../../web/build";

export interface LoginSiteProps {
  bucket: string;
  /** What the page reads from config.json: see web/src/app.ts. */
  config: { apiUrl: string; idpSignOnUrl: string; relyingPartyId: string; region: string };
}

export class LoginSite extends Construct {
  readonly websiteEndpoint: string;

  constructor(scope: Construct, id: string, props: LoginSiteProps) {
    super(scope, id);
    const bucket = new S3Bucket(this, "bucket", { bucket: props.bucket, tags: { PublicWebsite: "login page (public GET by design)" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const website = new S3BucketWebsiteConfiguration(this, "website", { bucket: bucket.id, indexDocument: { suffix: "index.html" } });
    this.websiteEndpoint = website.websiteEndpoint;
    // ACLs stay blocked; only the bucket policy below may grant public reads.
    const access = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    });
    new S3BucketPolicy(this, "public-read", {
      bucket: bucket.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [{ Sid: "WebsiteRead", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `${bucket.arn}/*` }],
      }),
      dependsOn: [access],
    });

    // The page's files go as assets (as Lambda zips do): their bytes are not Terraform strings,
    // where `${` would be read as an interpolation.
    const staging = join(App.of(this).outdir, ".web");
    mkdirSync(staging, { recursive: true });
    for (const file of buildLoginPage()) {
      const md5 = createHash("md5").update(file.content).digest("hex");
      const path = join(staging, `${md5}-${file.path}`);
      writeFileSync(path, file.content);
      const asset = new TerraformAsset(this, `asset-${file.path.replace(/\W/g, "-")}`, { path, type: AssetType.FILE, assetHash: md5 });
      new S3Object(this, `file-${file.path.replace(/\W/g, "-")}`, {
        bucket: bucket.id,
        key: file.path,
        source: asset.path,
        contentType: file.contentType,
        cacheControl: "no-cache",
        etag: md5,
      });
    }
    new S3Object(this, "file-config-json", {
      bucket: bucket.id,
      key: "config.json",
      content: Fn.jsonencode(props.config),
      contentType: "application/json",
      cacheControl: "no-cache",
    });
  }
}
