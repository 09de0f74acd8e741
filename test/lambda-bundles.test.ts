// The Lambda zips synth makes: within their size limits (the SAML handlers, which carry the XML
// schema validator's WebAssembly, under 1 MB; every other under 300 KB), with a source map that
// Node finds (the bundle names it) and that maps the repository's code only.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { synthTo, type Synthesized } from "./helpers/synth";

const SAML_HANDLERS = ["process-saml", "saml-authorizer"];
const LIMIT_BYTES = { saml: 1024 * 1024, other: 300 * 1000 };

let synthesized: Synthesized;
let zips: string[];
beforeAll(() => {
  synthesized = synthTo("aws");
  zips = readdirSync(join(synthesized.outdir, ".bundles")).filter((f) => f.endsWith(".zip"));
}, 120_000);

describe("Lambda bundles", () => {
  it("every function's zip is within its limit", () => {
    expect(zips.length).toBeGreaterThanOrEqual(9);
    for (const zip of zips) {
      const limit = SAML_HANDLERS.some((name) => zip.startsWith(`${name}-`)) ? LIMIT_BYTES.saml : LIMIT_BYTES.other;
      expect(statSync(join(synthesized.outdir, ".bundles", zip)).size, zip).toBeLessThan(limit);
    }
  });

  it("names its source map, which maps the repository's own files and no dependency", () => {
    for (const zip of zips) {
      const files = unzipSync(readFileSync(join(synthesized.outdir, ".bundles", zip)));
      const code = Object.keys(files).find((f) => /^index\.m?js$/.test(f))!;
      expect(Buffer.from(files[code]).toString("utf8").trimEnd(), zip).toMatch(new RegExp(`//# sourceMappingURL=${code}\\.map$`));
      const map = JSON.parse(Buffer.from(files[`${code}.map`]).toString("utf8")) as { sources: string[] };
      expect(map.sources.length, zip).toBeGreaterThan(0);
      expect(map.sources.filter((s) => s.includes("node_modules/")), zip).toEqual([]);
      expect(map.sources.every((s) => /\/(lambdas|sql)\//.test(s)), zip).toBe(true);
    }
  });
});
