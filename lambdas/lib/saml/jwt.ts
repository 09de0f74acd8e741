// The pickup token: a JWT signed ES256 by a KMS asymmetric key (the private key never leaves
// KMS), 30 seconds long. KMS returns a DER ECDSA signature; JWS wants the raw r || s.
import { createHash, randomUUID } from "node:crypto";
import { DescribeKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";

export const PICKUP_TOKEN_SECONDS = 30;

export const sha256Hex = (value: string) => createHash("sha256").update(value, "utf8").digest("hex");

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export interface PickupClaims {
  /** identityhash: SHA-256 of the login page's identity id. */
  sub: string;
  /** SHA-256 of the login page's random code. */
  code_hash: string;
  iss: string;
  aud: string;
}

export async function signPickupToken(kms: KMSClient, keyId: string, claims: PickupClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const payload = { ...claims, jti: randomUUID(), iat, exp: iat + PICKUP_TOKEN_SECONDS };
  // The key ARN as `kid` tells a verifier in another region which public key to use.
  const header = { alg: "ES256", typ: "JWT", kid: await keyArn(kms, keyId) };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const { Signature } = await kms.send(
    new SignCommand({ KeyId: keyId, Message: Buffer.from(signingInput), MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }),
  );
  if (!Signature) throw new Error("KMS Sign returned no signature");
  return `${signingInput}.${base64url(derToJose(Buffer.from(Signature)))}`;
}

const arns = new Map<string, Promise<string>>();
/** The key's ARN, resolved once per container and region (an alias does not move under a running function). */
async function keyArn(kms: KMSClient, keyId: string): Promise<string> {
  const cacheKey = `${await kms.config.region()}|${keyId}`;
  let arn = arns.get(cacheKey);
  if (!arn) {
    arn = kms.send(new DescribeKeyCommand({ KeyId: keyId })).then(({ KeyMetadata }) => {
      if (!KeyMetadata?.Arn) throw new Error(`KMS DescribeKey ${keyId} returned no ARN`);
      return KeyMetadata.Arn;
    });
    arn.catch(() => arns.delete(cacheKey));
    arns.set(cacheKey, arn);
  }
  return arn;
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` -> 64 bytes r || s (P-256). */
export function derToJose(der: Buffer): Buffer {
  let offset = 0;
  const expect = (tag: number) => {
    if (der[offset++] !== tag) throw new Error("KMS returned a signature that is not DER ECDSA");
    let length = der[offset++];
    if (length & 0x80) {
      const bytes = length & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = (length << 8) | der[offset++];
    }
    return length;
  };
  expect(0x30);
  const integer = () => {
    const length = expect(0x02);
    const value = der.subarray(offset, offset + length);
    offset += length;
    const trimmed = value.subarray(Math.max(0, value.length - 32));
    return Buffer.concat([Buffer.alloc(32 - trimmed.length), trimmed]);
  };
  return Buffer.concat([integer(), integer()]);
}
