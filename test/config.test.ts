// A bad config stops synth with a message that names the field and the rule.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig, type PlatformConfig } from "../stacks/config";

const good = loadConfig();

function problemsOf(mutate: (c: any) => void): string[] {
  const config = structuredClone(good) as any;
  mutate(config);
  try {
    parseConfig(config, "test-config.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("config", () => {
  it("the shipped config defines dev, staging and prod", () => {
    expect(Object.keys(good.environments).sort()).toEqual(["dev", "prod", "staging"]);
  });

  it.each<[string, (c: any) => void, string]>([
    ["a malformed account id", (c) => (c.environments.dev.accountId = "12345"), 'environments.dev.accountId: must match pattern "^[0-9]{12}$" (rule: pattern)'],
    ["a missing field", (c) => delete c.environments.staging.hostedZone, "environments.staging.hostedZone: is required (rule: required)"],
    ["an unknown field", (c) => (c.environments.prod.colour = "blue"), "environments.prod.colour: is not a known field (rule: additionalProperties)"],
    ["a retention CloudWatch does not accept", (c) => (c.environments.dev.logRetentionDays = 10), "environments.dev.logRetentionDays: must be one of"],
    ["a wrong type", (c) => (c.environments.dev.features.legacyKinesisAnalytics = "yes"), "environments.dev.features.legacyKinesisAnalytics: must be boolean (rule: type)"],
    ["a bad environment name", (c) => (c.environments["Prod-EU"] = c.environments.prod), "environments.Prod-EU: is not an allowed name (rule: propertyNames)"],
    ["a deploy role in another account", (c) => (c.environments.dev.deployRoleArn = "arn:aws:iam::999999999999:role/x"), "environments.dev.deployRoleArn: must be a role in accountId 111111111111 (rule: roleInAccount)"],
    ["a domain outside its hosted zone", (c) => (c.environments.dev.domainName = "api.other.com"), "environments.dev.domainName: \"api.other.com\" is not inside hostedZone.name \"dev.example.com\" (rule: domainInZone)"],
    ["a primary region that is not deployed", (c) => (c.primaryRegion = "eu-west-1"), "primaryRegion: \"eu-west-1\" is not one of regions"],
    ["an org workspace that is no environment", (c) => (c.organization.workspace = "qa"), "organization.workspace: \"qa\" is not one of the environments"],
  ])("refuses %s, naming the field and the rule", (_, mutate, expected) => {
    expect(problemsOf(mutate).join("\n")).toContain(expected);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf((c) => {
      c.environments.dev.accountId = "x";
      c.environments.prod.api.throttleBurstLimit = 0;
    });
    expect(problems).toHaveLength(2);
  });

  it("synth stops with exit code 1 and the message when the config is bad", () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-config-"));
    const bad: PlatformConfig = structuredClone(good);
    bad.environments.staging.domainName = "not a domain";
    writeFileSync(join(dir, "environments.json"), JSON.stringify(bad));
    const run = spawnSync(process.execPath, ["--import", "tsx", "main.ts"], {
      encoding: "utf8",
      env: { ...process.env, PLATFORM_CONFIG: join(dir, "environments.json"), CDKTF_OUTDIR: join(dir, "out") },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("synth stopped:");
    expect(run.stderr).toContain("environments.staging.domainName: must match pattern");
  });

  it("a file that is not JSON is named as such", () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-config-"));
    writeFileSync(join(dir, "environments.json"), "{ not json");
    expect(() => loadConfig(join(dir, "environments.json"))).toThrow(/is not JSON/);
  });
});
