// Bundles a handler with esbuild into a zip whose bytes depend only on the source: fixed entry
// order, fixed timestamps and modes, and source-map paths relative to the repository, so that
// the same commit gives the same `source_code_hash` on every machine and a plan shows a Lambda
// change only when its code changed.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { zipSync } from "fflate";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * Where esbuild believes it writes (it never does: `write: false`). A fixed place inside the
 * repository keeps the source-map paths the same in every clone and every synth outdir.
 */
const VIRTUAL_OUT_DIR = join(REPO_ROOT, "cdktf.out", ".bundles");

/** Built with local time fields so that the DOS timestamp is the same in every time zone. */
const ZIP_EPOCH = new Date(1980, 0, 1, 0, 0, 0);

export interface LambdaBundle {
  /** Absolute path of the zip on disk. */
  zipPath: string;
  /** Hex SHA-256 of the zip: names the asset. */
  sha256Hex: string;
  /** Base64 SHA-256 of the zip: Lambda's `source_code_hash`. */
  sha256Base64: string;
  sizeBytes: number;
}

const bundles = new Map<string, LambdaBundle>();

/**
 * `cjs`: `index.js`, CommonJS. `esm`: `index.mjs`, an ES module, for handlers whose dependencies
 * need top-level await (libxml2-wasm instantiates its WebAssembly that way); Lambda loads either
 * for the handler `index.<export>`. CommonJS dependencies inside an ES module bundle get a
 * `require` for Node's built-in modules.
 */
export type ModuleFormat = "cjs" | "esm";
const ESM_REQUIRE_BANNER = 'import{createRequire as __createRequire}from"node:module";const require=__createRequire(import.meta.url);';

/**
 * `entry` is a path relative to the repository root, e.g. `lambdas/hello/index.ts`; the bundle's
 * `index.js` (or `index.mjs`) exports what the entry exports (the handler is `index.<export>`).
 * The zip is written to `stagingDir`; one process builds each entry once per staging dir,
 * however many stacks use it.
 */
export function bundleLambda(entry: string, stagingDir: string, format: ModuleFormat = "cjs"): LambdaBundle {
  const cacheKey = `${stagingDir}\0${entry}\0${format}`;
  const cached = bundles.get(cacheKey);
  if (cached) return cached;

  const name = entry.replace(/^lambdas\//, "").replace(/\/index\.ts$/, "").replace(/[^A-Za-z0-9_-]/g, "_");
  // A fixed output location inside the repository keeps source-map paths identical across clones.
  const outfile = join(VIRTUAL_OUT_DIR, name, format === "esm" ? "index.mjs" : "index.js");
  const result = buildSync({
    absWorkingDir: REPO_ROOT,
    entryPoints: [join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format,
    ...(format === "esm" ? { banner: { js: ESM_REQUIRE_BANNER } } : {}),
    minify: true,
    treeShaking: true,
    sourcemap: "external",
    sourcesContent: false,
    legalComments: "external",
    mainFields: ["module", "main"],
    charset: "utf8",
    write: false,
    logLevel: "silent",
  });
  if (result.errors.length > 0) {
    throw new Error(`esbuild could not bundle ${entry}: ${result.errors.map((e) => e.text).join("; ")}`);
  }

  const files: Record<string, [Uint8Array, { mtime: Date; os: number; attrs: number }]> = {};
  for (const file of [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) {
    const inZip = relative(dirname(outfile), file.path).split("\\").join("/");
    // A Unix (os 3) regular file with mode 0644, in the upper 16 bits as Unix zip tools write it.
    files[inZip] = [file.contents, { mtime: ZIP_EPOCH, os: 3, attrs: (0o100644 << 16) >>> 0 }];
  }
  const zip = zipSync(files, { level: 9 });

  const digest = createHash("sha256").update(zip).digest();
  const sha256Hex = digest.toString("hex");
  const zipPath = join(stagingDir, `${name}-${sha256Hex.slice(0, 16)}.zip`);
  mkdirSync(stagingDir, { recursive: true });
  writeFileSync(zipPath, zip);

  const bundle = { zipPath, sha256Hex, sha256Base64: digest.toString("base64"), sizeBytes: zip.length };
  bundles.set(cacheKey, bundle);
  return bundle;
}
