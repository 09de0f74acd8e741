// S3 for the local cloud, without the wire protocol: buckets (region, public access block,
// default encryption) and objects (body, metadata, checksums). The deployer calls it to create
// what `aws_s3_bucket*` resources declare; the REST server (server.ts) calls it for requests.
// With a data directory every change is written through to disk, so objects survive a restart.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AwsServiceError } from "../lib/aws-wire";

/** An S3 error as AWS names it: the API turns it into the XML error body and status. */
export class S3Error extends AwsServiceError {
  constructor(
    code: string,
    message: string,
    statusCode: number,
    /** Extra elements of the XML error body, e.g. `{ Key: "a.bmp" }`. */
    readonly details: Record<string, string> = {},
  ) {
    super(code, message, statusCode);
  }
}

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export type EncryptionAlgorithm = "AES256" | "aws:kms" | "aws:kms:dsse";
export const ENCRYPTION_ALGORITHMS: readonly EncryptionAlgorithm[] = ["AES256", "aws:kms", "aws:kms:dsse"];

export interface BucketEncryption {
  algorithm: EncryptionAlgorithm;
  /** KMS key id or ARN; absent for aws:kms means the AWS managed key `aws/s3`. */
  kmsKeyId?: string;
  bucketKeyEnabled: boolean;
}

export interface Bucket {
  name: string;
  region: string;
  createdAt: string;
  publicAccessBlock?: PublicAccessBlock;
  /** S3 encrypts every object since January 2023: SSE-S3 unless configured otherwise. */
  encryption: BucketEncryption;
  /** The bucket policy document (JSON text), as `aws_s3_bucket_policy` sets it. */
  policy?: string;
  /** Static website hosting (`aws_s3_bucket_website_configuration`). */
  website?: { indexDocument: string; errorDocument?: string };
}

export type ChecksumAlgorithm = "CRC32" | "SHA1" | "SHA256";

export interface ObjectInput {
  contentType?: string;
  cacheControl?: string;
  /** `x-amz-meta-*` without the prefix, lower-case names. */
  metadata?: Record<string, string>;
  /** Checksums the client sent and the server verified, base64 as S3 returns them. */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface S3ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Quoted MD5 hex, as S3 returns it for a single-part upload. */
  etag: string;
  lastModified: string;
  contentType: string;
  cacheControl?: string;
  metadata: Record<string, string>;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  encryption: BucketEncryption;
}

export interface S3Object extends S3ObjectInfo {
  body: Buffer;
}

const MAX_KEY_BYTES = 1024;
const DEFAULT_ENCRYPTION: BucketEncryption = { algorithm: "AES256", bucketKeyEnabled: false };

export class S3State {
  private readonly buckets = new Map<string, Bucket>();
  private readonly objects = new Map<string, Map<string, S3Object>>();
  private readonly dir?: string;

  private readonly now: () => number;

  /** `now`: the local cloud's clock (epoch ms), for creation and modification times. */
  constructor(options: { dataDir?: string; now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    if (options.dataDir) {
      this.dir = join(options.dataDir, "s3");
      this.load();
    }
  }

  createBucket(name: string, region: string): Bucket {
    validateBucketName(name);
    if (this.buckets.has(name)) {
      throw new S3Error("BucketAlreadyOwnedByYou", `Bucket ${name} already exists and is owned by you`, 409, { BucketName: name });
    }
    const bucket: Bucket = { name, region, createdAt: new Date(this.now()).toISOString(), encryption: { ...DEFAULT_ENCRYPTION } };
    this.buckets.set(name, bucket);
    this.objects.set(name, new Map());
    this.saveBuckets();
    return structuredClone(bucket);
  }

  deleteBucket(name: string): void {
    this.bucket(name);
    if (this.objects.get(name)!.size > 0) {
      throw new S3Error("BucketNotEmpty", `Bucket ${name} is not empty: delete its objects first`, 409, { BucketName: name });
    }
    this.buckets.delete(name);
    this.objects.delete(name);
    this.saveBuckets();
    if (this.dir) rmSync(join(this.dir, "objects", name), { recursive: true, force: true });
  }

  getBucket(name: string): Bucket {
    return structuredClone(this.bucket(name));
  }

  listBuckets(): Bucket[] {
    return [...this.buckets.values()].map((b) => structuredClone(b)).sort((a, b) => a.name.localeCompare(b.name));
  }

  putPublicAccessBlock(name: string, config: PublicAccessBlock): void {
    this.bucket(name).publicAccessBlock = { ...config };
    this.saveBuckets();
  }

  /** Like S3, refuses a public policy while the bucket's public access block blocks public policies. */
  putBucketPolicy(name: string, policy: string, isPublic: boolean): void {
    const bucket = this.bucket(name);
    if (isPublic && bucket.publicAccessBlock?.blockPublicPolicy) {
      throw new S3Error("AccessDenied", `Bucket ${name} blocks public policies (BlockPublicPolicy): the policy grants access to everyone`, 403);
    }
    bucket.policy = policy;
    this.saveBuckets();
  }

  putWebsite(name: string, website: { indexDocument: string; errorDocument?: string }): void {
    this.bucket(name).website = { ...website };
    this.saveBuckets();
  }

  getPublicAccessBlock(name: string): PublicAccessBlock {
    const config = this.bucket(name).publicAccessBlock;
    if (!config) {
      throw new S3Error("NoSuchPublicAccessBlockConfiguration", `Bucket ${name} has no public access block configuration`, 404, { BucketName: name });
    }
    return { ...config };
  }

  putBucketEncryption(name: string, config: BucketEncryption): void {
    if (!ENCRYPTION_ALGORITHMS.includes(config.algorithm)) {
      throw new S3Error("InvalidArgument", `SSEAlgorithm must be one of ${ENCRYPTION_ALGORITHMS.join(", ")}, got "${config.algorithm}"`, 400);
    }
    if (config.kmsKeyId && config.algorithm === "AES256") {
      throw new S3Error("InvalidArgument", "KMSMasterKeyID is only allowed with SSEAlgorithm aws:kms or aws:kms:dsse", 400);
    }
    this.bucket(name).encryption = { ...config };
    this.saveBuckets();
  }

  getBucketEncryption(name: string): BucketEncryption {
    return { ...this.bucket(name).encryption };
  }

  putObject(bucketName: string, key: string, body: Buffer, input: ObjectInput = {}): S3ObjectInfo {
    const bucket = this.bucket(bucketName);
    validateKey(key);
    const object: S3Object = {
      bucket: bucketName,
      key,
      body: Buffer.from(body),
      size: body.length,
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      lastModified: new Date(this.now()).toISOString(),
      contentType: input.contentType || "binary/octet-stream",
      cacheControl: input.cacheControl,
      metadata: { ...(input.metadata ?? {}) },
      checksums: { ...(input.checksums ?? {}) },
      encryption: { ...bucket.encryption },
    };
    this.objects.get(bucketName)!.set(key, object);
    this.saveObject(object);
    return info(object);
  }

  getObject(bucketName: string, key: string): S3Object {
    this.bucket(bucketName);
    const object = this.objects.get(bucketName)!.get(key);
    if (!object) throw new S3Error("NoSuchKey", "The specified key does not exist.", 404, { Key: key });
    return { ...info(object), body: object.body };
  }

  headObject(bucketName: string, key: string): S3ObjectInfo {
    return info(this.getObject(bucketName, key));
  }

  /** Deleting a key that does not exist succeeds, as in S3. */
  deleteObject(bucketName: string, key: string): void {
    this.bucket(bucketName);
    if (this.objects.get(bucketName)!.delete(key) && this.dir) {
      rmSync(this.objectPath(bucketName, key), { force: true });
    }
  }

  /** Keys of a bucket in S3's (UTF-8 binary) order, optionally under a prefix. */
  listObjects(bucketName: string, prefix = ""): S3ObjectInfo[] {
    this.bucket(bucketName);
    return [...this.objects.get(bucketName)!.values()]
      .filter((o) => o.key.startsWith(prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
      .map(info);
  }

  private bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new S3Error("NoSuchBucket", "The specified bucket does not exist", 404, { BucketName: name });
    return bucket;
  }

  private objectPath(bucket: string, key: string): string {
    return join(this.dir!, "objects", bucket, `${createHash("sha256").update(key).digest("hex")}.json`);
  }

  private load(): void {
    const bucketsFile = join(this.dir!, "buckets.json");
    if (!existsSync(bucketsFile)) return;
    for (const bucket of JSON.parse(readFileSync(bucketsFile, "utf8")) as Bucket[]) {
      this.buckets.set(bucket.name, bucket);
      const objects = new Map<string, S3Object>();
      const dir = join(this.dir!, "objects", bucket.name);
      for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : []) {
        const stored = JSON.parse(readFileSync(join(dir, file), "utf8")) as S3ObjectInfo & { body: string };
        objects.set(stored.key, { ...stored, body: Buffer.from(stored.body, "base64") });
      }
      this.objects.set(bucket.name, objects);
    }
  }

  private saveBuckets(): void {
    if (this.dir) writeAtomically(join(this.dir, "buckets.json"), JSON.stringify([...this.buckets.values()], null, 2));
  }

  private saveObject(object: S3Object): void {
    if (this.dir) writeAtomically(this.objectPath(object.bucket, object.key), JSON.stringify({ ...info(object), body: object.body.toString("base64") }));
  }
}

function info(object: S3Object): S3ObjectInfo {
  const { body: _body, ...rest } = object;
  return structuredClone(rest);
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The rules of https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html for new buckets. */
export function validateBucketName(name: string): void {
  const problem =
    name.length < 3 || name.length > 63
      ? "must be 3 to 63 characters long"
      : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)
        ? "may hold only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit"
        : name.includes("..")
          ? "must not contain two adjacent dots"
          : /^\d+\.\d+\.\d+\.\d+$/.test(name)
            ? "must not be formatted as an IP address"
            : undefined;
  if (problem) throw new S3Error("InvalidBucketName", `The specified bucket "${name}" is not valid: it ${problem}`, 400, { BucketName: name });
}

function validateKey(key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes === 0) throw new S3Error("InvalidArgument", "Object keys must not be empty", 400);
  if (bytes > MAX_KEY_BYTES) {
    throw new S3Error("KeyTooLongError", `Your key is too long: ${bytes} bytes, at most ${MAX_KEY_BYTES} (UTF-8)`, 400);
  }
}
