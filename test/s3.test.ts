// The S3 emulator with the real S3 client and presigner: buckets, objects, checksums, private
// access, presigned URLs that expire, AWS's XML errors, and state that survives a restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_USER } from "../local/cloud/accounts";
import { S3Api } from "../local/s3/api";
import { S3State } from "../local/s3/state";
import { startTestEdge, type TestEdge } from "./helpers/test-edge";

async function failure(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as S3ServiceException;
  }
  throw new Error("expected the call to fail");
}

describe("S3 emulator over the wire", () => {
  const state = new S3State();
  let clock = () => new Date();
  let edge: TestEdge;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  let server: { endpoint: string };
  let s3: S3Client;
  /** Denies the administrator `action` on `resource` (an attached managed policy), for the duration of `run`. */
  async function denying(denials: [string, string][], run: () => Promise<void>) {
    const arn = "arn:aws:iam::111111111111:policy/test-denials";
    edge.account.iam.createPolicy(arn, JSON.stringify({ Statement: denials.map(([action, resource]) => ({ Effect: "Deny", Action: action, Resource: resource })) }));
    edge.account.iam.attachUserPolicy(ADMIN_USER, arn);
    try {
      await run();
    } finally {
      edge.account.iam.detachUserPolicy(ADMIN_USER, arn);
    }
  }

  beforeAll(async () => {
    edge = await startTestEdge({ accountId: "111111111111", services: () => ({ s3: new S3Api(state, 1024 * 1024) }), now: () => clock() });
    credentials = edge.admin;
    server = { endpoint: edge.url };
    s3 = new S3Client({ region: "us-east-1", endpoint: server.endpoint, credentials });
    state.createBucket("mars-images", "us-east-1");
    state.putPublicAccessBlock("mars-images", { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
    state.putBucketEncryption("mars-images", { algorithm: "aws:kms", bucketKeyEnabled: true });
  });
  afterAll(() => edge.stop());

  it("puts, heads, gets and deletes an object with the SDK (path-style on an IP endpoint)", async () => {
    const body = Buffer.from("BM fake bitmap bytes");
    const put = await s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "images/1 ü.bmp", Body: body, ContentType: "image/bmp", Metadata: { photo: "42" } }));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.ServerSideEncryption).toBe("aws:kms");
    expect(put.BucketKeyEnabled).toBe(true);

    const head = await s3.send(new HeadObjectCommand({ Bucket: "mars-images", Key: "images/1 ü.bmp" }));
    expect(head).toMatchObject({ ContentLength: body.length, ContentType: "image/bmp", ETag: put.ETag, Metadata: { photo: "42" } });

    const get = await s3.send(new GetObjectCommand({ Bucket: "mars-images", Key: "images/1 ü.bmp" }));
    expect(Buffer.from(await get.Body!.transformToByteArray())).toEqual(body);
    // The SDK asked for the checksum and validated it against the bytes.
    expect(get.ChecksumCRC32).toBeDefined();
    expect(state.getObject("mars-images", "images/1 ü.bmp").body).toEqual(body);

    await s3.send(new DeleteObjectCommand({ Bucket: "mars-images", Key: "images/1 ü.bmp" }));
    const missing = await failure(s3.send(new GetObjectCommand({ Bucket: "mars-images", Key: "images/1 ü.bmp" })));
    expect(missing.name).toBe("NoSuchKey");
    expect(missing.$metadata.httpStatusCode).toBe(404);
    const missingHead = await failure(s3.send(new HeadObjectCommand({ Bucket: "mars-images", Key: "images/1 ü.bmp" })));
    expect(missingHead.$metadata.httpStatusCode).toBe(404);
  });

  it("unwraps a streamed (aws-chunked, checksum trailer) upload", async () => {
    const body = Readable.from([Buffer.from("BM first chunk, "), Buffer.from("second chunk")]);
    await s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "streamed.bin", Body: body, ContentLength: 28 }));
    expect(state.getObject("mars-images", "streamed.bin").body.toString()).toBe("BM first chunk, second chunk");
    expect(state.getObject("mars-images", "streamed.bin").checksums.CRC32).toBeDefined();
  });

  it("serves a byte range", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "range.bin", Body: Buffer.from("0123456789") }));
    const part = await s3.send(new GetObjectCommand({ Bucket: "mars-images", Key: "range.bin", Range: "bytes=2-5" }));
    expect(await part.Body!.transformToString()).toBe("2345");
    expect(part.ContentRange).toBe("bytes 2-5/10");
    expect((await failure(s3.send(new GetObjectCommand({ Bucket: "mars-images", Key: "range.bin", Range: "bytes=20-" })))).name).toBe("InvalidRange");
  });

  it("reports the bucket's public access block and encryption", async () => {
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: "mars-images" }));
    expect(pab.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: "mars-images" }));
    expect(encryption.ServerSideEncryptionConfiguration?.Rules?.[0]).toMatchObject({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true });
  });

  it("refuses anonymous requests with AccessDenied and an XML error body", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "private.bmp", Body: Buffer.from("secret") }));
    const response = await fetch(`${server.endpoint}/mars-images/private.bmp`);
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/xml");
    const xml = await response.text();
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message><RequestId>[0-9A-F]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
  });

  it("serves a presigned URL until it expires, then answers AccessDenied 'Request has expired'", async () => {
    const body = Buffer.from("BM presigned");
    await s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "images/2.bmp", Body: body, ContentType: "image/bmp" }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "mars-images", Key: "images/2.bmp" }), { expiresIn: 900 });
    expect(url.startsWith(`${server.endpoint}/mars-images/images/2.bmp?`)).toBe(true);

    const fresh = await fetch(url);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("content-type")).toBe("image/bmp");
    expect(Buffer.from(await fresh.arrayBuffer())).toEqual(body);

    const signedAt = Date.now();
    try {
      clock = () => new Date(signedAt + 901_000);
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      const xml = await expired.text();
      expect(xml).toContain("<Code>AccessDenied</Code>");
      expect(xml).toContain("Request has expired");
    } finally {
      clock = () => new Date();
    }
    const tampered = await fetch(url.replace("images/2.bmp", "images/3.bmp"));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("names wrong credentials, a wrong region, an unknown bucket and a bad checksum", async () => {
    const stranger = new S3Client({ region: "us-east-1", endpoint: server.endpoint, credentials: { accessKeyId: "AKIDOTHER", secretAccessKey: "x" } });
    expect((await failure(stranger.send(new GetObjectCommand({ Bucket: "mars-images", Key: "images/2.bmp" })))).name).toBe("InvalidAccessKeyId");
    const wrongSecret = new S3Client({ region: "us-east-1", endpoint: server.endpoint, credentials: { ...credentials, secretAccessKey: "nope" } });
    expect((await failure(wrongSecret.send(new GetObjectCommand({ Bucket: "mars-images", Key: "images/2.bmp" })))).name).toBe("SignatureDoesNotMatch");

    const west = new S3Client({ region: "us-west-2", endpoint: server.endpoint, credentials });
    const wrongRegion = await failure(west.send(new GetObjectCommand({ Bucket: "mars-images", Key: "images/2.bmp" })));
    expect(wrongRegion.name).toBe("AuthorizationHeaderMalformed");
    expect(wrongRegion.message).toContain("expecting 'us-east-1'");

    expect((await failure(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" })))).name).toBe("NoSuchBucket");

    const badChecksum = await failure(
      s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "bad.bin", Body: Buffer.from("data"), ChecksumCRC32: "AAAAAA==" })),
    );
    expect(badChecksum.name).toBe("BadDigest");
    expect(() => state.getObject("mars-images", "bad.bin")).toThrow(/does not exist/);
  });

  it("refuses a body over the size limit without storing it", async () => {
    const tooLarge = await failure(s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "huge.bin", Body: Buffer.alloc(2 * 1024 * 1024) })));
    expect(tooLarge.name).toBe("EntityTooLarge");
    expect(() => state.headObject("mars-images", "huge.bin")).toThrow(/does not exist/);
  });

  it("asks IAM, says only 'Access Denied' as S3 does, and hides a missing key behind 403 when ListBucket is not allowed", async () => {
    await denying(
      [
        ["s3:PutObject", "arn:aws:s3:::mars-images/state/last-good.json"],
        ["s3:ListBucket", "arn:aws:s3:::mars-images"],
      ],
      async () => {
        const put = await failure(s3.send(new PutObjectCommand({ Bucket: "mars-images", Key: "state/last-good.json", Body: "{}" })));
        expect(put.name).toBe("AccessDenied");
        expect(put.message).toBe("Access Denied");
        const hidden = await failure(s3.send(new HeadObjectCommand({ Bucket: "mars-images", Key: "nothing-here" })));
        expect(hidden.$metadata.httpStatusCode).toBe(403);
      },
    );
  });

  it("creates and deletes buckets in the signing region, and refuses a mismatched location constraint", async () => {
    const west = new S3Client({ region: "us-west-2", endpoint: server.endpoint, credentials });
    await west.send(new CreateBucketCommand({ Bucket: "west-bucket", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
    expect(state.getBucket("west-bucket").region).toBe("us-west-2");
    expect((await failure(west.send(new CreateBucketCommand({ Bucket: "west-bucket", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } })))).name).toBe(
      "BucketAlreadyOwnedByYou",
    );
    const mismatch = await failure(west.send(new CreateBucketCommand({ Bucket: "other-bucket", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })));
    expect(mismatch.name).toBe("IllegalLocationConstraintException");
    expect((await failure(s3.send(new CreateBucketCommand({ Bucket: "Bad_Name" })))).name).toBe("InvalidBucketName");
    await west.send(new DeleteBucketCommand({ Bucket: "west-bucket" }));
    expect(() => state.getBucket("west-bucket")).toThrow(/does not exist/);
  });
});

describe("S3 state", () => {
  it("keeps buckets, settings and objects across a restart when given a data directory", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "s3-state-"));
    try {
      const first = new S3State({ dataDir });
      first.createBucket("persisted", "us-west-2");
      first.putPublicAccessBlock("persisted", { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
      first.putObject("persisted", "a/b.bmp", Buffer.from([0, 1, 2, 255]), { contentType: "image/bmp" });

      const second = new S3State({ dataDir });
      expect(second.getBucket("persisted")).toMatchObject({ region: "us-west-2", publicAccessBlock: { blockPublicAcls: true } });
      expect(second.getObject("persisted", "a/b.bmp")).toMatchObject({ body: Buffer.from([0, 1, 2, 255]), contentType: "image/bmp" });
      second.deleteObject("persisted", "a/b.bmp");
      expect(new S3State({ dataDir }).listObjects("persisted")).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses to delete a bucket that holds objects, and a bucket name S3 would refuse", () => {
    const state = new S3State();
    state.createBucket("full", "us-east-1");
    state.putObject("full", "k", Buffer.from("x"));
    expect(() => state.deleteBucket("full")).toThrow(expect.objectContaining({ code: "BucketNotEmpty" }));
    for (const name of ["ab", "UPPER", "a..b", "192.168.1.1", "-dash", "x".repeat(64)]) {
      expect(() => state.createBucket(name, "us-east-1")).toThrow(expect.objectContaining({ code: "InvalidBucketName" }));
    }
    expect(() => state.putObject("full", "k".repeat(1025), Buffer.alloc(0))).toThrow(expect.objectContaining({ code: "KeyTooLongError" }));
  });
});
