// The scaled clock (`npm start -- --time-scale 10`) is one clock: ProcessSAML, in its worker,
// writes a parked session's expiresAt on it, and the TTL sweeper deletes on it, so a parked
// session lives its intended 5 minutes of the cloud's time (30 s of real time at 10x) and is
// swept after them, not before. (DynamoDB Developer Guide, "Working with Time to Live": an item
// expires when its TTL attribute, in epoch seconds, is less than the current time.)
import { createHash } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { TABLE_NAMES } from "../modules/saml-federation";
import { samlBrowser } from "./helpers/saml-browser";

const TIME_SCALE = 10;
const PARKED_SECONDS = 300;
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startPlatformCloud("time-scale", { timeScale: TIME_SCALE });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

/** Reads the parked session; when, on the cloud's clock, the read started and ended. */
async function readParked(identityId: string) {
  const key = { identityhash: { S: createHash("sha256").update(identityId).digest("hex") } };
  const startedAt = cloud.now();
  const { Item } = await cloud.dynamodbClient("us-east-1").send(new GetItemCommand({ TableName: TABLE_NAMES.sessions, Key: key, ConsistentRead: true }));
  return { item: Item, startedAt, endedAt: cloud.now() };
}

/** Waits (in real time) until the cloud's clock reads `at`. */
async function untilLocal(at: number) {
  while (cloud.now() < at) await new Promise((resolve) => setTimeout(resolve, Math.max(1, (at - cloud.now()) / TIME_SCALE)));
}

describe(`the scaled clock (${TIME_SCALE}x)`, () => {
  it(`a parked SAML session lives its ${PARKED_SECONDS} s of the cloud's time and is swept after them`, async () => {
    const loginStarted = cloud.now();
    const { identityId, token } = await samlBrowser(cloud).login("bob", "bob-local-password");
    const loginEnded = cloud.now();
    expect(token).toBeDefined();
    const first = await readParked(identityId);
    const expiresAt = Number(first.item?.expiresAt?.N) * 1000;
    // Written on the cloud's clock during the login (whole seconds).
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(loginStarted / 1000) * 1000 + PARKED_SECONDS * 1000);
    expect(expiresAt).toBeLessThanOrEqual(loginEnded + PARKED_SECONDS * 1000);

    // Every read that ended before expiresAt finds it; a read after it (and a sweep) does not.
    await untilLocal(expiresAt - 5_000);
    const reads = [];
    for (;;) {
      const read = await readParked(identityId);
      reads.push(read);
      if (!read.item) break;
      expect(read.startedAt, "still there well after its expiry").toBeLessThan(expiresAt + 60_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(reads.filter((r) => r.endedAt < expiresAt).every((r) => r.item)).toBe(true);
    expect(reads.filter((r) => r.endedAt < expiresAt).length).toBeGreaterThan(0);
    expect(reads.at(-1)!.endedAt).toBeGreaterThan(expiresAt);
  }, 90_000);
});
