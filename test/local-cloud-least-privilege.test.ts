// A role missing one statement fails locally as it would in AWS: the same synthesized platform,
// with `kms:Sign` taken out of ProcessSAML's role policy, refuses the SAML login (the function gets
// KMS's AccessDeniedException when it signs the pickup token) while the login page still gets its
// redirect. The unchanged platform signs bob in (test/local-cloud-saml.test.ts).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { synth } from "../scripts/lib/synth";
import { samlBrowser } from "./helpers/saml-browser";

let cloud: LocalCloud;

/** Takes one action out of a statement of the synthesized role policies of every regional stack. */
function removeAction(outdir: string, sid: string, action: string) {
  for (const stack of ["platform-us-east-1", "platform-us-west-2"]) {
    const file = join(outdir, "stacks", stack, "cdk.tf.json");
    const json = JSON.parse(readFileSync(file, "utf8"));
    let removed = 0;
    for (const policy of Object.values(json.resource.aws_iam_role_policy) as { policy: string }[]) {
      if (!policy.policy.includes(`"Sid" = "${sid}"`)) continue;
      policy.policy = policy.policy.replace(`"${action}", `, "");
      removed++;
    }
    if (removed !== 1) throw new Error(`${stack}: expected one policy with statement ${sid}, found ${removed}`);
    writeFileSync(file, JSON.stringify(json));
  }
}

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), "least-privilege-synth-"));
  synth({ target: "aws", outdir });
  removeAction(outdir, "SignPickupTokens", "kms:Sign");
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "least-privilege-")), port: 0 });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

describe("a role without one statement its flow needs", () => {
  it("makes the SAML login fail with AccessDenied from KMS, as it would in AWS", async () => {
    const login = await samlBrowser(cloud).login("bob", "bob-local-password");
    expect(login.status).toBe(302);
    expect(login.token).toBeUndefined();
    expect(login.error).toBe("internal_error");
    const logs = cloud.endpoints().regions["us-east-1"].logs;
    const file = readdirSync(logs).find((f) => f.includes("process-saml"))!;
    const log = readFileSync(join(logs, file), "utf8");
    expect(log).toContain("AccessDeniedException");
    expect(log).toMatch(/assumed-role\/platform-process-saml-us-east-1\/platform-process-saml is not authorized to perform: kms:Sign on resource: arn:aws:kms:us-east-1:111111111111:key\//);
  }, 60_000);
});
