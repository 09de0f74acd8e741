// Real Terraform applied to an independent AWS emulator (moto_server): every stack of workspace
// dev deployed with the pinned `cdktf deploy`, a second plan that changes nothing but moto's
// listed gaps, the values the local cloud computed checked against moto's state, then destroyed.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTableCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DEFAULT_ACCOUNT_ID, LocalCloud } from "../local/cloud";
import { MOTO_GAPS } from "../stacks/moto-target";
import { compareComputedWithState, describeDifference, IdCorrespondence } from "../scripts/lib/deployer-vs-terraform";
import { applyCheck } from "../scripts/lib/moto/apply-check";
import { startMoto } from "../scripts/lib/moto/server";
import { showState } from "../scripts/lib/moto/terraform";
import { stateResources } from "../scripts/lib/terraform-json";
import { synth } from "../scripts/lib/synth";
import { readSynthesized } from "../scripts/lib/synthesized";
import { motoMissing } from "./helpers/tools";

describe("the moto target", () => {
  it("is the offline target without the global-table replicas, and nothing else", () => {
    const offline = mkdtempSync(join(tmpdir(), "target-offline-"));
    const moto = mkdtempSync(join(tmpdir(), "target-moto-"));
    synth({ target: "offline", outdir: offline });
    synth({ target: "moto", outdir: moto });
    let replicas = 0;
    for (const stack of readSynthesized(offline)) {
      const expected = JSON.parse(readFileSync(stack.file, "utf8"));
      for (const table of Object.values<Record<string, unknown>>(expected.resource?.aws_dynamodb_table ?? {})) {
        if (table.replica) replicas++;
        delete table.replica;
      }
      const actual = JSON.parse(readFileSync(join(moto, "stacks", stack.name, "cdk.tf.json"), "utf8"));
      // cdktf records which arguments an override changed (the moto target's and the stacks' own); the configuration is what matters.
      delete actual["//"].metadata.overrides;
      delete expected["//"].metadata.overrides;
      expect(actual, stack.name).toEqual(expected);
    }
    expect(replicas).toBeGreaterThan(0);
  });
});

describe.skipIf(Boolean(motoMissing))("moto", () => {
  it("still has no global-table replicas, the reason the moto target leaves them out", async () => {
    const moto = await startMoto({ accountId: "111111111111" });
    try {
      const client = (region: string) => new DynamoDBClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
      await client("us-east-1").send(
        new CreateTableCommand({
          TableName: "ReplicaProbe",
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
          StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
        }),
      );
      // AWS answers with the replica CREATING and later ACTIVE, and the table exists in us-west-2
      // (DynamoDB developer guide, "Global tables: How it works"). moto accepts and ignores it.
      await client("us-east-1").send(new UpdateTableCommand({ TableName: "ReplicaProbe", ReplicaUpdates: [{ Create: { RegionName: "us-west-2" } }] }));
      const described = await client("us-east-1").send(new DescribeTableCommand({ TableName: "ReplicaProbe" }));
      expect(described.Table?.Replicas ?? []).toEqual([]);
      await expect(client("us-west-2").send(new DescribeTableCommand({ TableName: "ReplicaProbe" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    } finally {
      await moto.stop();
    }
  });

  it("cdktf deploy applies every stack of dev; the next plan changes only moto's gaps; the local cloud computes the same values; destroy removes everything", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "apply-check-"));
    const lines: string[] = [];
    const differences: string[] = [];
    let compared = 0;
    const report = await applyCheck({
      workspace: "dev",
      outdir,
      deployWith: "cdktf",
      log: (line) => lines.push(line),
      afterApply: async ({ moto, stacks, workspace }) => {
        const cloud = await LocalCloud.start({ outdir, workspace, dataDir: mkdtempSync(join(tmpdir(), "apply-check-local-")), port: 0 });
        try {
          // The local cloud deploys the moto target into its default account (no allowed_account_ids).
          const ids = new IdCorrespondence([[moto.accountId, DEFAULT_ACCOUNT_ID]]);
          const isGap = (type: string, attribute: string) => MOTO_GAPS.some((g) => g.resourceType === type && g.attribute === attribute);
          for (const stack of stacks) {
            const state = stateResources(await showState(stack, workspace, moto));
            const comparison = compareComputedWithState(stack.name, stack.json, state, cloud.deployed.get(stack.name)!, ids, isGap);
            compared += comparison.compared;
            differences.push(...comparison.unmatched, ...comparison.differences.map(describeDifference));
          }
        } finally {
          await cloud.stop();
        }
      },
    });
    console.log(lines.join("\n"));
    console.log(`apply-check phases (s): ${JSON.stringify(report.phases)}`);
    expect(differences.join("\n")).toBe("");
    expect(compared).toBeGreaterThan(50);
    const resources = Object.fromEntries(report.stacks.map((s) => [s.stack, s.resources]));
    expect(resources["platform-us-east-1"]).toBeGreaterThan(150);
    expect(resources["platform-us-west-2"]).toBeGreaterThan(150);
    // Every resource global-dns declares (health checks, latency records, their alarms) is in the state.
    const declared = JSON.parse(readFileSync(join(outdir, "stacks", "global-dns", "cdk.tf.json"), "utf8")).resource as Record<string, Record<string, unknown>>;
    expect(resources["global-dns"]).toBe(Object.values(declared).reduce((n, byName) => n + Object.keys(byName).length, 0));
    // Every not-stored gap showed (a stale one fails applyCheck); each change is one of them.
    expect(new Set(report.explained.map((m) => m.gap.handling))).toEqual(new Set(["not-stored"]));
  }, 1_200_000);
});
