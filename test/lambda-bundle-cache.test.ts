// The on-disk cache of Lambda zips: a zip from the cache is byte-identical to a fresh build, and
// a change in any file esbuild read for it (here a module the entry imports) builds it again.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { bundleLambda, REPO_ROOT } from "../modules/nodejs-function/bundle";

const NAME = `bundle-cache-test-${process.pid}`;
const DIR = join(REPO_ROOT, "lambdas", NAME);
const CACHE = join(REPO_ROOT, "node_modules", ".cache", "lambda-bundles", `${NAME}-cjs`);
const staging = () => mkdtempSync(join(tmpdir(), "bundle-cache-"));

afterAll(() => {
  rmSync(DIR, { recursive: true, force: true });
  rmSync(`${CACHE}.json`, { force: true });
  rmSync(`${CACHE}.zip`, { force: true });
});

describe("Lambda bundle cache", () => {
  it("reuses a zip while its inputs are unchanged and rebuilds it when one changes", () => {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, "greeting.ts"), 'export const greeting = "hello";\n');
    writeFileSync(join(DIR, "index.ts"), 'import { greeting } from "./greeting";\nexport const handler = async () => greeting;\n');
    const entry = `lambdas/${NAME}/index.ts`;

    const built = bundleLambda(entry, staging());
    const manifest = JSON.parse(readFileSync(`${CACHE}.json`, "utf8"));
    expect(Object.keys(manifest.inputs).sort()).toEqual([`lambdas/${NAME}/greeting.ts`, entry]);
    const cached = bundleLambda(entry, staging());
    expect(cached.sha256Hex).toBe(built.sha256Hex);

    process.env.LAMBDA_BUNDLE_CACHE = "off";
    try {
      expect(bundleLambda(entry, staging()).sha256Hex).toBe(built.sha256Hex);
    } finally {
      delete process.env.LAMBDA_BUNDLE_CACHE;
    }

    writeFileSync(join(DIR, "greeting.ts"), 'export const greeting = "hello again";\n');
    const rebuilt = bundleLambda(entry, staging());
    expect(rebuilt.sha256Hex).not.toBe(built.sha256Hex);
    expect(Buffer.from(unzipSync(readFileSync(rebuilt.zipPath))["index.js"]).toString("utf8")).toContain("hello again");
  });
});
