// The bucket: one BMP per rover photo (made once, reused while that photo is the latest), the
// last good answer (what is served, marked stale, while NASA fails), and presigned GET URLs.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { RoverPhoto } from "./photos";
import type { Insight } from "./weather";

export const LAST_GOOD_KEY = "state/last-good.json";

export interface LastGood {
  imageKey: string;
  insight: Insight;
  updatedAt: string;
}

export function imageKey(photo: Pick<RoverPhoto, "id">): string {
  return `images/curiosity/${photo.id}.bmp`;
}

export class DisplayStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async has(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
      throw error;
    }
  }

  async putImage(key: string, bmp: Buffer, photo: RoverPhoto): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bmp,
        ContentType: "image/bmp",
        Metadata: { "photo-id": String(photo.id), "earth-date": photo.earthDate, sol: String(photo.sol), camera: photo.camera },
      }),
    );
  }

  /** The last good answer, or undefined when there is none (or it cannot be read as one). */
  async readLastGood(): Promise<LastGood | undefined> {
    let text: string;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: LAST_GOOD_KEY }));
      text = await object.Body!.transformToString();
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
      throw error;
    }
    try {
      const value = JSON.parse(text) as LastGood;
      return typeof value.imageKey === "string" && typeof value.insight?.sol === "string" ? value : undefined;
    } catch {
      return undefined;
    }
  }

  async writeLastGood(value: LastGood): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: LAST_GOOD_KEY, Body: JSON.stringify(value), ContentType: "application/json" }),
    );
  }

  presign(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }
}
