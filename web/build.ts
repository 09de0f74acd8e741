// Builds the login page: the static files of web/ plus app.js, bundled by esbuild from
// web/src/app.ts with the SigV4 signer inside (no CDN scripts). Deterministic: same source, same
// bytes. Used at synth (the S3 objects) and by the local cloud (which serves the same files).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const WEB_DIR = fileURLToPath(new URL(".", import.meta.url));

export interface LoginPageFile {
  path: string;
  contentType: string;
  content: string;
}

let built: LoginPageFile[] | undefined;

/** index.html, style.css, app.js. The deployment adds config.json ({apiUrl, idpSignOnUrl, relyingPartyId, region}). */
export function buildLoginPage(): LoginPageFile[] {
  if (built) return built;
  const result = buildSync({
    absWorkingDir: join(WEB_DIR, ".."),
    entryPoints: [join(WEB_DIR, "src", "app.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "silent",
  });
  if (result.errors.length > 0) throw new Error(`esbuild could not bundle web/src/app.ts: ${result.errors.map((e) => e.text).join("; ")}`);
  built = [
    { path: "index.html", contentType: "text/html; charset=utf-8", content: readFileSync(join(WEB_DIR, "index.html"), "utf8") },
    { path: "style.css", contentType: "text/css; charset=utf-8", content: readFileSync(join(WEB_DIR, "style.css"), "utf8") },
    { path: "app.js", contentType: "text/javascript; charset=utf-8", content: result.outputFiles[0].text },
  ];
  return built;
}
