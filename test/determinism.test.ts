// Same source, same bytes: two synths in separate processes from a clean state give identical
// cdk.tf.json files and Lambda zips.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../scripts/lib/synth";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Bundles are built, not taken from the bundle cache: the point is that esbuild and the zip are deterministic. */
function synthInFreshProcess(target: string): string {
  const outdir = mkdtempSync(join(tmpdir(), `determinism-${target}-`));
  execFileSync(process.execPath, ["--import", "tsx", "scripts/synth.ts", "--target", target, "--outdir", outdir], {
    stdio: "pipe",
    env: { ...process.env, LAMBDA_BUNDLE_CACHE: "off" },
  });
  return outdir;
}

describe("deterministic synth", () => {
  it.each(["aws", "offline"])("%s target: byte-identical stacks and Lambda zips", (target) => {
    const first = synthInFreshProcess(target);
    const second = synthInFreshProcess(target);
    const relevant = (dir: string) =>
      files(join(dir, "stacks"))
        .filter((f) => f.endsWith("cdk.tf.json") || f.endsWith(".zip"))
        .map((f) => relative(dir, f))
        .sort();
    const names = relevant(first);
    expect(names.filter((n) => n.endsWith(".zip")).length).toBeGreaterThanOrEqual(4);
    expect(relevant(second)).toEqual(names);
    for (const name of names) {
      expect(readFileSync(join(second, name)).equals(readFileSync(join(first, name))), name).toBe(true);
    }
  });

  it("no absolute path of this checkout ends up in a stack or a bundle, so every clone gives the same bytes", () => {
    const outdir = synthInFreshProcess("aws");
    for (const file of files(join(outdir, "stacks"))) {
      const contents = file.endsWith(".zip")
        ? Object.values(unzipSync(readFileSync(file))).map((bytes) => Buffer.from(bytes).toString("utf8"))
        : [readFileSync(file, "utf8")];
      for (const text of contents) {
        expect(text, file).not.toContain(REPO_ROOT.replace(/\/$/, ""));
        expect(text, file).not.toContain(outdir);
      }
    }
  });
});
