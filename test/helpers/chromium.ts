// Debian's Chromium for browser tests (playwright-core drives it; no browser download).
// CI installs it (.ci/run); elsewhere a missing browser is said loudly and the test skipped,
// unless REQUIRE_BROWSER=1 makes it a failure.
import { existsSync } from "node:fs";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

export const chromiumPath = CANDIDATES.find((path): path is string => !!path && existsSync(path));

if (!chromiumPath) {
  const message = "Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): browser tests are skipped";
  if (process.env.REQUIRE_BROWSER === "1") throw new Error(message);
  console.warn(`\n*** ${message} ***\n`);
}

/** Chromium flags for a headless run as root in a container. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"];
