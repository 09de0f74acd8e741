// KMS for the local cloud, the control and data plane without the wire protocol: asymmetric
// ECC_NIST_P256 / SIGN_VERIFY keys (what the platform uses for its JWTs), aliases, and
// Sign / Verify / GetPublicKey with ECDSA_SHA_256. Key material stays inside this state, as it
// stays inside KMS, and is persisted under the data directory so that tokens signed before a
// restart still verify after it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AwsServiceError } from "../lib/aws-wire";

export const KEY_SPECS = ["ECC_NIST_P256"] as const;
export const KEY_USAGES = ["SIGN_VERIFY"] as const;
export const SIGNING_ALGORITHMS = ["ECDSA_SHA_256"] as const;
/** KMS signs at most 4096 bytes of RAW message. */
const MAX_RAW_MESSAGE_BYTES = 4096;

export type KeySpec = (typeof KEY_SPECS)[number];
export type KeyUsage = (typeof KEY_USAGES)[number];
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface KeyMetadata {
  AWSAccountId: string;
  KeyId: string;
  Arn: string;
  CreationDate: number;
  Enabled: boolean;
  Description: string;
  KeyUsage: KeyUsage;
  KeySpec: KeySpec;
  CustomerMasterKeySpec: KeySpec;
  KeyState: "Enabled";
  Origin: "AWS_KMS";
  KeyManager: "CUSTOMER";
  MultiRegion: false;
  SigningAlgorithms: SigningAlgorithm[];
}

/** What `aws_kms_key` configures (Terraform attribute names in the comments). */
export interface CreateKeyInput {
  /** `customer_master_key_spec` / `key_spec` */
  keySpec?: string;
  /** `key_usage` */
  keyUsage?: string;
  /** `description` */
  description?: string;
  /** `policy`: the key policy (JSON); AWS's default key policy when absent. */
  policy?: string;
  /**
   * Makes creation idempotent: the deployer passes the Terraform address, so that a restart of
   * the local cloud finds the key (and its material) it created before instead of a new one.
   */
  idempotencyToken?: string;
}

interface StoredKey {
  metadata: KeyMetadata;
  region: string;
  /** The key policy (JSON text). */
  policy?: string;
  idempotencyToken?: string;
  privateKeyPem: string;
}

interface StoredAlias {
  region: string;
  AliasName: string;
  AliasArn: string;
  TargetKeyId: string;
}

interface Persisted {
  keys: StoredKey[];
  aliases: StoredAlias[];
}

export interface KmsStateOptions {
  accountId: string;
  /** Directory for the key store; in memory when absent. */
  dataDir?: string;
  /** The local cloud's clock (epoch ms); the machine's when absent. */
  now?: () => number;
}

export class KmsState {
  private readonly keys = new Map<string, StoredKey>(); // by key ARN
  private readonly aliases = new Map<string, StoredAlias>(); // by alias ARN
  private readonly privateKeys = new Map<string, KeyObject>(); // parsed once per key ARN
  private readonly file?: string;

  constructor(private readonly options: KmsStateOptions) {
    if (options.dataDir) {
      this.file = join(options.dataDir, "kms", "keys.json");
      if (existsSync(this.file)) {
        const persisted = JSON.parse(readFileSync(this.file, "utf8")) as Persisted;
        for (const key of persisted.keys) this.keys.set(key.metadata.Arn, key);
        for (const alias of persisted.aliases) this.aliases.set(alias.AliasArn, alias);
      }
    }
  }

  createKey(region: string, input: CreateKeyInput = {}): KeyMetadata {
    const keySpec = oneOf(input.keySpec ?? "ECC_NIST_P256", KEY_SPECS, "KeySpec");
    const keyUsage = oneOf(input.keyUsage ?? "SIGN_VERIFY", KEY_USAGES, "KeyUsage");
    if (input.idempotencyToken) {
      const existing = [...this.keys.values()].find((k) => k.region === region && k.idempotencyToken === input.idempotencyToken);
      if (existing) return existing.metadata;
    }
    const keyId = randomUUID();
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const metadata: KeyMetadata = {
      AWSAccountId: this.options.accountId,
      KeyId: keyId,
      Arn: `arn:aws:kms:${region}:${this.options.accountId}:key/${keyId}`,
      CreationDate: Math.floor((this.options.now ?? Date.now)() / 1000),
      Enabled: true,
      Description: input.description ?? "",
      KeyUsage: keyUsage,
      KeySpec: keySpec,
      CustomerMasterKeySpec: keySpec,
      KeyState: "Enabled",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      MultiRegion: false,
      SigningAlgorithms: [...SIGNING_ALGORITHMS],
    };
    this.keys.set(metadata.Arn, {
      metadata,
      region,
      policy: input.policy,
      idempotencyToken: input.idempotencyToken,
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    });
    this.persist();
    return metadata;
  }

  /**
   * The key policy. Without one, AWS's default key policy: the account (root) may do everything,
   * which lets the account's IAM policies decide ("Default key policy", KMS Developer Guide).
   */
  keyPolicy(region: string, keyId: string): string {
    const key = this.key(region, keyId);
    return (
      key.policy ??
      JSON.stringify({
        Version: "2012-10-17",
        Id: "key-default-1",
        Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${this.options.accountId}:root` }, Action: "kms:*", Resource: "*" }],
      })
    );
  }

  /** The aliases of a key (the `kms:ResourceAliases` condition key). */
  aliasesOf(keyArn: string): string[] {
    const keyId = keyArn.split("/").pop();
    return [...this.aliases.values()].filter((a) => a.TargetKeyId === keyId).map((a) => a.AliasName);
  }

  /** `aws_kms_alias`: `name` must start with `alias/`; `target_key_id` is a key id or ARN. */
  createAlias(region: string, aliasName: string, targetKeyId: string): StoredAlias {
    if (!/^alias\/[A-Za-z0-9/_-]{1,250}$/.test(aliasName) || aliasName.startsWith("alias/aws/")) {
      throw new AwsServiceError("ValidationException", `Alias name "${aliasName}" must start with alias/ and may not use the reserved alias/aws/ prefix`);
    }
    const target = this.key(region, targetKeyId);
    const alias: StoredAlias = {
      region,
      AliasName: aliasName,
      AliasArn: `arn:aws:kms:${region}:${this.options.accountId}:${aliasName}`,
      TargetKeyId: target.metadata.KeyId,
    };
    const existing = this.aliases.get(alias.AliasArn);
    if (existing && existing.TargetKeyId !== alias.TargetKeyId) {
      throw new AwsServiceError("AlreadyExistsException", `An alias with the name ${alias.AliasArn} already exists`);
    }
    this.aliases.set(alias.AliasArn, alias);
    this.persist();
    return alias;
  }

  listAliases(region: string): StoredAlias[] {
    return [...this.aliases.values()].filter((a) => a.region === region);
  }

  describeKey(region: string, keyId: string): KeyMetadata {
    return this.key(region, keyId).metadata;
  }

  /** The public key as DER-encoded SubjectPublicKeyInfo, as KMS returns it. */
  getPublicKey(region: string, keyId: string) {
    const key = this.key(region, keyId);
    return {
      KeyId: key.metadata.Arn,
      PublicKey: createPublicKey(this.privateKey(key)).export({ type: "spki", format: "der" }),
      KeySpec: key.metadata.KeySpec,
      KeyUsage: key.metadata.KeyUsage,
      SigningAlgorithms: key.metadata.SigningAlgorithms,
    };
  }

  /** ECDSA over SHA-256 of the message; the signature is DER-encoded, as KMS returns it. */
  sign(region: string, input: { keyId: string; message: Buffer; messageType?: string; signingAlgorithm: string }) {
    const key = this.key(region, input.keyId);
    const algorithm = this.checkSigning(key, input);
    return {
      KeyId: key.metadata.Arn,
      Signature: sign("sha256", input.message, { key: this.privateKey(key), dsaEncoding: "der" }),
      SigningAlgorithm: algorithm,
    };
  }

  verify(region: string, input: { keyId: string; message: Buffer; messageType?: string; signature: Buffer; signingAlgorithm: string }) {
    const key = this.key(region, input.keyId);
    const algorithm = this.checkSigning(key, input);
    const valid = verify("sha256", input.message, { key: createPublicKey(this.privateKey(key)), dsaEncoding: "der" }, input.signature);
    if (!valid) throw new AwsServiceError("KMSInvalidSignatureException", "The signature is not valid for this key and message");
    return { KeyId: key.metadata.Arn, SignatureValid: true, SigningAlgorithm: algorithm };
  }

  private checkSigning(key: StoredKey, input: { message: Buffer; messageType?: string; signingAlgorithm: string }): SigningAlgorithm {
    const algorithm = oneOf(input.signingAlgorithm, SIGNING_ALGORITHMS, "SigningAlgorithm");
    if (key.metadata.KeyUsage !== "SIGN_VERIFY") {
      throw new AwsServiceError("InvalidKeyUsageException", `Key ${key.metadata.Arn} is not a SIGN_VERIFY key`);
    }
    const messageType = input.messageType ?? "RAW";
    if (messageType !== "RAW") {
      // Node's crypto cannot sign a precomputed digest with ECDSA; the platform signs RAW messages.
      throw new AwsServiceError("ValidationException", `MessageType ${messageType} is not supported by the local KMS; send the message with MessageType RAW`);
    }
    if (input.message.length === 0 || input.message.length > MAX_RAW_MESSAGE_BYTES) {
      throw new AwsServiceError("ValidationException", `Message must be 1 to ${MAX_RAW_MESSAGE_BYTES} bytes for MessageType RAW, got ${input.message.length}`);
    }
    return algorithm;
  }

  /** Resolves a key id, key ARN, alias name or alias ARN in `region`. */
  private key(region: string, keyId: string): StoredKey {
    if (!keyId) throw new AwsServiceError("ValidationException", "KeyId is required");
    let arn: string;
    if (keyId.startsWith("arn:aws:kms:")) {
      const [, , , keyRegion, account, resource] = keyId.split(":");
      if (keyRegion !== region || account !== this.options.accountId) {
        throw new AwsServiceError("NotFoundException", `Key '${keyId}' does not exist in ${region} of account ${this.options.accountId}`);
      }
      arn = resource.startsWith("alias/") ? this.aliasTarget(keyId) : keyId;
    } else if (keyId.startsWith("alias/")) {
      arn = this.aliasTarget(`arn:aws:kms:${region}:${this.options.accountId}:${keyId}`);
    } else {
      arn = `arn:aws:kms:${region}:${this.options.accountId}:key/${keyId}`;
    }
    const key = this.keys.get(arn);
    if (!key) throw new AwsServiceError("NotFoundException", `Key '${arn}' does not exist`);
    return key;
  }

  private aliasTarget(aliasArn: string): string {
    const alias = this.aliases.get(aliasArn);
    if (!alias) throw new AwsServiceError("NotFoundException", `Alias ${aliasArn} is not found.`);
    return `arn:aws:kms:${alias.region}:${this.options.accountId}:key/${alias.TargetKeyId}`;
  }

  private privateKey(key: StoredKey): KeyObject {
    let parsed = this.privateKeys.get(key.metadata.Arn);
    if (!parsed) {
      parsed = createPrivateKey(key.privateKeyPem);
      this.privateKeys.set(key.metadata.Arn, parsed);
    }
    return parsed;
  }

  private persist(): void {
    if (!this.file) return;
    const persisted: Persisted = { keys: [...this.keys.values()], aliases: [...this.aliases.values()] };
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename: a crash mid-write never leaves a half-written key store.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(persisted, null, 2), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new AwsServiceError(
      "UnsupportedOperationException",
      `${field} ${value} is not supported by the local KMS; supported: ${allowed.join(", ")}`,
    );
  }
  return value as T;
}
