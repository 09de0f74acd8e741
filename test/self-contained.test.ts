// The repository stands alone: a clone with nothing beside it must build, test and explain
// itself. No tracked file may read or cite a directory outside the repository, a design
// document the repository does not hold, or a ticket number a reader cannot look up.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../scripts/lib/synth";

// Spelled in pieces so that this file does not match itself.
const OUTSIDE_REFERENCES: [string, RegExp][] = [
  ["a path to the directory beside the repository", new RegExp(["\\.\\.", "shared"].join("/"))],
  ["the outside design document", new RegExp(["SPEC", "md"].join("\\."))],
  ["a section of the outside design document", new RegExp(`${"SP" + "EC"} (section )?\\d`)],
  ["a ticket number", new RegExp(`\\(${"iss" + "ue"} #?\\d+\\)|\\b${"iss" + "ues?"} #\\d+`, "i")],
];

function trackedTextFiles(): string[] {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  return files.filter((file) => !readFileSync(join(REPO_ROOT, file)).subarray(0, 8000).includes(0));
}

describe("the repository stands alone", () => {
  it("has no tracked file that reads or cites anything outside it", () => {
    const findings: string[] = [];
    for (const file of trackedTextFiles()) {
      const lines = readFileSync(join(REPO_ROOT, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        for (const [what, pattern] of OUTSIDE_REFERENCES) {
          if (pattern.test(line)) findings.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
        }
      });
    }
    expect(findings).toEqual([]);
  });

  it("catches each kind of outside reference", () => {
    const samples = [["..", "shared", "data", "x.csv"].join("/"), `${"SPEC"}.md`, `${"SP" + "EC"} 5.3`, `(${"iss" + "ue"} 6)`];
    for (const [index, sample] of samples.entries()) expect(OUTSIDE_REFERENCES[index][1].test(sample), sample).toBe(true);
  });

  it("holds the data its tests and benchmarks read", () => {
    const data = readFileSync(join(REPO_ROOT, "data", "rcf-paper.csv"), "utf8").trim().split("\n");
    expect(data).toHaveLength(2010);
    expect(readFileSync(join(REPO_ROOT, "data", "README.md"), "utf8")).toContain("Apache License 2.0");
  });
});
