// Bundles a handler with esbuild into a zip whose bytes depend only on the source: fixed entry
// order, fixed timestamps and modes, and source-map paths relative to the repository, so that
// the same commit gives the same `source_code_hash` on every machine and a plan shows a Lambda
// change only when its code changed.
//
// The source map covers the repository's own code only: a dependency's frames keep their bundle
// positions. Dependencies' mappings were about half of every zip (the SAML bundles came close to
// 1 MB with them) and are what Node parses at start with --enable-source-maps, while the frames
// that say where a handler failed are ours.
//
// Zips are cached on disk (node_modules/.cache/lambda-bundles) and reused while every file esbuild
// read for them is byte-identical: bundling the platform's functions is most of a synth's time.
// LAMBDA_BUNDLE_CACHE=off always builds (the determinism test checks esbuild and the zip, not the cache).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync, version as esbuildVersion, type BuildOptions } from "esbuild";
import { zipSync } from "fflate";
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * Where esbuild believes it writes (it never does: `write: false`). A fixed place inside the
 * repository keeps the source-map paths the same in every clone and every synth outdir.
 */
const VIRTUAL_OUT_DIR = join(REPO_ROOT, "cdktf.out", ".bundles");
const CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "lambda-bundles");
const ZIP_LEVEL = 9;
/** Changes when what the build does to esbuild's output changes: part of the cache key. */
const POST_PROCESSING = "own-code-source-maps";

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
  const options = buildOptions(entry, name, format);
  const cache = process.env.LAMBDA_BUNDLE_CACHE === "off" ? undefined : new BundleCache(`${name}-${format}`, options);
  const zip = cache?.read() ?? buildZip(entry, options, cache);

  const digest = createHash("sha256").update(zip).digest();
  const sha256Hex = digest.toString("hex");
  const zipPath = join(stagingDir, `${name}-${sha256Hex.slice(0, 16)}.zip`);
  mkdirSync(stagingDir, { recursive: true });
  writeFileSync(zipPath, zip);

  const bundle = { zipPath, sha256Hex, sha256Base64: digest.toString("base64"), sizeBytes: zip.length };
  bundles.set(cacheKey, bundle);
  return bundle;
}

function buildOptions(entry: string, name: string, format: ModuleFormat): BuildOptions & { outfile: string } {
  return {
    absWorkingDir: REPO_ROOT,
    entryPoints: [join(REPO_ROOT, entry)],
    // A fixed output location inside the repository keeps source-map paths identical across clones.
    outfile: join(VIRTUAL_OUT_DIR, name, format === "esm" ? "index.mjs" : "index.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format,
    ...(format === "esm" ? { banner: { js: ESM_REQUIRE_BANNER } } : {}),
    minify: true,
    treeShaking: true,
    // "linked": the bundle names its map, which Node reads with --enable-source-maps (NODE_OPTIONS).
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "external",
    mainFields: ["module", "main"],
    charset: "utf8",
    logLevel: "silent",
  };
}

function buildZip(entry: string, options: BuildOptions & { outfile: string }, cache: BundleCache | undefined): Uint8Array {
  const result = buildSync({ ...options, write: false, metafile: true });
  if (result.errors.length > 0) {
    throw new Error(`esbuild could not bundle ${entry}: ${result.errors.map((e) => e.text).join("; ")}`);
  }
  const files: Record<string, [Uint8Array, { mtime: Date; os: number; attrs: number }]> = {};
  for (const file of [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) {
    const inZip = relative(dirname(options.outfile), file.path).split("\\").join("/");
    const contents = inZip.endsWith(".map") ? ownCodeSourceMap(file.contents) : file.contents;
    // A Unix (os 3) regular file with mode 0644, in the upper 16 bits as Unix zip tools write it.
    files[inZip] = [contents, { mtime: ZIP_EPOCH, os: 3, attrs: (0o100644 << 16) >>> 0 }];
  }
  const zip = zipSync(files, { level: ZIP_LEVEL });
  cache?.write(Object.keys(result.metafile!.inputs), zip);
  return zip;
}

interface SourceMapJson {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  [key: string]: unknown;
}

/** The map without the segments of files under node_modules; sources and names renumbered. */
export function ownCodeSourceMap(bytes: Uint8Array): Uint8Array {
  const map = JSON.parse(Buffer.from(bytes).toString("utf8")) as SourceMapJson;
  const sources: string[] = [];
  const names: string[] = [];
  const sourceIndex = new Map<number, number>();
  const nameIndex = new Map<number, number>();
  const renumber = (index: number, table: Map<number, number>, from: string[], to: string[]) => {
    let renumbered = table.get(index);
    if (renumbered === undefined) {
      renumbered = to.push(from[index]) - 1;
      table.set(index, renumbered);
    }
    return renumbered;
  };
  const lines = decode(map.mappings).map((line) =>
    line.flatMap((segment): SourceMapSegment[] => {
      if (segment.length === 1 || map.sources[segment[1]].includes("node_modules/")) return [];
      const source = renumber(segment[1], sourceIndex, map.sources, sources);
      if (segment.length === 4) return [[segment[0], source, segment[2], segment[3]]];
      return [[segment[0], source, segment[2], segment[3], renumber(segment[4], nameIndex, map.names, names)]];
    }),
  );
  return Buffer.from(JSON.stringify({ ...map, sources, names, mappings: encode(lines) }));
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

interface CacheManifest {
  /** The build's options and tool versions: another configuration is another bundle. */
  configuration: string;
  /** SHA-256 of every file esbuild read, by path relative to the repository. */
  inputs: Record<string, string>;
  zipSha256: string;
}

/** One function's zip from an earlier build, valid while its configuration and inputs are unchanged. */
class BundleCache {
  private readonly configuration: string;
  private readonly manifestPath: string;
  private readonly zipPath: string;

  constructor(key: string, options: BuildOptions) {
    this.configuration = JSON.stringify({ esbuild: esbuildVersion, zipLevel: ZIP_LEVEL, postProcessing: POST_PROCESSING, options });
    this.manifestPath = join(CACHE_DIR, `${key}.json`);
    this.zipPath = join(CACHE_DIR, `${key}.zip`);
  }

  read(): Uint8Array | undefined {
    let manifest: CacheManifest;
    try {
      manifest = JSON.parse(readFileSync(this.manifestPath, "utf8"));
    } catch {
      return undefined;
    }
    if (manifest.configuration !== this.configuration) return undefined;
    for (const [path, digest] of Object.entries(manifest.inputs)) {
      const content = readOrUndefined(join(REPO_ROOT, path));
      if (!content || sha256(content) !== digest) return undefined;
    }
    const zip = readOrUndefined(this.zipPath);
    // Another process may be replacing the entry: a zip that does not match is not used.
    return zip && sha256(zip) === manifest.zipSha256 ? zip : undefined;
  }

  write(inputPaths: string[], zip: Uint8Array) {
    const inputs: Record<string, string> = {};
    for (const path of inputPaths.sort()) {
      const content = readOrUndefined(join(REPO_ROOT, path));
      if (!content) return; // an input that is not a file cannot be checked later: no cache entry
      inputs[path] = sha256(content);
    }
    const manifest: CacheManifest = { configuration: this.configuration, inputs, zipSha256: sha256(zip) };
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed into place, so that concurrent synths never read half a file.
    const suffix = `.${process.pid}.tmp`;
    writeFileSync(this.zipPath + suffix, zip);
    renameSync(this.zipPath + suffix, this.zipPath);
    writeFileSync(this.manifestPath + suffix, JSON.stringify(manifest));
    renameSync(this.manifestPath + suffix, this.manifestPath);
  }
}
