// The CDKTF CLI pinned in devDependencies: `npx cdktf` runs it (no registry download), and its
// `cdktf synth` writes exactly what `npm run synth` writes, file for file, byte for byte.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { CDKTF_BIN } from "../scripts/lib/cdktf-cli";
import { REPO_ROOT } from "../scripts/lib/synth";

const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));

function filesUnder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" }, timeout: 180_000 });
  expect(result.status, `${command} ${args.join(" ")}:\n${result.stderr}\n${result.stdout}`).toBe(0);
  return result.stdout;
}

describe("cdktf CLI", () => {
  it("is the pinned cdktf-cli, the same version as the cdktf library", () => {
    expect(packageJson.devDependencies["cdktf-cli"]).toBe(packageJson.dependencies.cdktf);
    expect(run(CDKTF_BIN, ["--version"]).split("\n")[0].trim()).toBe(packageJson.devDependencies["cdktf-cli"]);
  });

  it("cdktf synth writes the same files as npm run synth", () => {
    const byCdktf = mkdtempSync(join(tmpdir(), "cdktf-synth-"));
    const byNpm = mkdtempSync(join(tmpdir(), "npm-synth-"));
    run(CDKTF_BIN, ["synth", "--output", byCdktf]);
    run("npm", ["run", "synth", "--", "--outdir", byNpm]);
    const cdktfFiles = filesUnder(byCdktf);
    const npmFiles = filesUnder(byNpm);
    expect([...cdktfFiles.keys()].sort()).toEqual([...npmFiles.keys()].sort());
    expect([...cdktfFiles.keys()].filter((f) => f.endsWith("cdk.tf.json")).length).toBeGreaterThanOrEqual(4);
    for (const [file, bytes] of cdktfFiles) expect(bytes.equals(npmFiles.get(file)!), `${file} differs`).toBe(true);
  }, 240_000);
});
