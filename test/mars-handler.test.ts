// FetchMarsData against the NASA fixture server, the local S3 emulator and the local SSM: the
// contracted answer (docs/design.md), the walk back to the latest day with photos, one BMP per photo, the stale
// answer when NASA fails or hangs, clear errors when there is nothing to serve, and every BMP
// it made checked by the simulator's OnDiskBitmap rules.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { insightWeatherDocument, isoDate, photoId, photoJpeg, remsWeatherDocument } from "../local/standins/nasa/fixtures";
import { startNasaFixtureServer, type RunningNasaFixture } from "../local/standins/nasa/server";
import { S3Api } from "../local/s3/api";
import { S3State } from "../local/s3/state";
import { ssmApi } from "../local/ssm/api";
import { captureStdout, type StdoutLines } from "./helpers/stdout-lines";
import { startTestEdge, type TestEdge } from "./helpers/test-edge";
import { encodeBmp565 } from "../lambdas/lib/bmp";
import { decodeJpeg, letterbox } from "../lambdas/fetch-mars-data/image";

const REGION = "us-east-1";
const NASA_KEY = "nasa-test-key-0123456789";
const PARAMETER = "/platform/mars-display/nasa-api-key";
const FIRMWARE = join(__dirname, "..", "firmware");

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

const context = { awsRequestId: "req-mars", functionName: "platform-fetch-mars-data", invokedFunctionArn: `arn:aws:lambda:${REGION}:111111111111:function:platform-fetch-mars-data`, getRemainingTimeInMillis: () => 25_000 };

let nasa: RunningNasaFixture;
let edge: TestEdge;
const state = new S3State();
let handler: Handler;
let bucketCount = 0;
/** The handler's log lines (Powertools writes them to stdout, as Lambda reads them). */
let stdout: StdoutLines;

function freshBucket(): string {
  const name = `mars-test-${++bucketCount}`;
  state.createBucket(name, REGION);
  process.env.MARS_BUCKET = name;
  return name;
}

async function call() {
  const result = await handler({ httpMethod: "GET", path: "/mars", headers: {} }, context);
  return { ...result, json: JSON.parse(result.body) };
}

function setEnvironment(overrides: Record<string, string> = {}) {
  Object.assign(process.env, {
    MARS_PHOTOS_API_URL: nasa.photosApiUrl,
    MARS_WEATHER_SOURCE: "msl-rems",
    MARS_WEATHER_URL: nasa.weatherUrls["msl-rems"],
    NASA_API_KEY_PARAMETER: PARAMETER,
    MARS_IMAGE_URL_TTL_SECONDS: "900",
    UPSTREAM_TIMEOUT_MS: "3000",
    MARS_PHOTO_LOOKBACK_DAYS: "7",
    ...overrides,
  });
}

beforeAll(async () => {
  nasa = await startNasaFixtureServer({ apiKey: NASA_KEY, slowMs: 20_000 });
  edge = await startTestEdge({ accountId: "111111111111", services: (accounts) => ({ s3: new S3Api(state), ssm: ssmApi((id) => accounts.get(id).ssm) }) });
  edge.account.ssm.putParameter(REGION, { name: PARAMETER, type: "SecureString", value: NASA_KEY });
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: edge.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: edge.admin.secretAccessKey,
    AWS_ENDPOINT_URL_S3: edge.url,
    AWS_ENDPOINT_URL_SSM: edge.url,
  });
  setEnvironment();
  stdout = captureStdout();
  ({ handler } = (await import("../lambdas/fetch-mars-data/index")) as unknown as { handler: Handler });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([nasa.stop(), edge.stop()]);
});

beforeEach(() => {
  nasa.setMode({ photos: "ok", images: "ok", weather: "ok" });
  setEnvironment();
  freshBucket();
});

describe("FetchMarsData", () => {
  it("answers image_url, insight and stale (docs/design.md) from the latest day with photos", async () => {
    const requestsBefore = nasa.requests.length;
    const today = new Date();
    const { statusCode, headers, json } = await call();
    expect(statusCode).toBe(200);
    expect(headers["cache-control"]).toBe("no-store");
    expect(Object.keys(json).sort()).toEqual(["image_url", "insight", "stale"]);
    expect(json.stale).toBe(false);

    const latest = remsWeatherDocument(today).soles[0];
    expect(json.insight).toEqual({
      sol: latest.sol,
      av_at: Math.round(((Number(latest.min_temp) + Number(latest.max_temp)) / 2) * 10) / 10,
      av_HWS: null,
      av_PRE: Number(latest.pressure),
      season: latest.season,
      First_UTC: `${latest.terrestrial_date}T00:00:00Z`,
      Last_UTC: `${latest.terrestrial_date}T23:59:59Z`,
    });

    // Today has no photos yet (emptyRecentDays 1): the function walked back one day.
    const photoCalls = nasa.requests.slice(requestsBefore).filter((r) => r.route === "photos");
    const yesterday = isoDate(new Date(today.getTime() - 86_400_000));
    expect(photoCalls.map((r) => r.query.earth_date)).toEqual([isoDate(today), yesterday]);
    expect(photoCalls.every((r) => r.query.api_key === NASA_KEY)).toBe(true);

    const latestId = photoId(yesterday, 2);
    const url = new URL(json.image_url);
    expect(url.origin + url.pathname).toBe(`${edge.url}/${process.env.MARS_BUCKET}/images/curiosity/${latestId}.bmp`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    const download = await fetch(json.image_url);
    expect(download.status).toBe(200);
    const bmp = Buffer.from(await download.arrayBuffer());
    // The highest id of the day, decoded, letterboxed and encoded: the same bytes every time.
    expect(bmp.equals(encodeBmp565(letterbox(decodeJpeg(photoJpeg(latestId)))))).toBe(true);
    expect(state.headObject(process.env.MARS_BUCKET!, `images/curiosity/${latestId}.bmp`)).toMatchObject({
      contentType: "image/bmp",
      metadata: { "photo-id": String(latestId), "earth-date": yesterday, camera: "FHAZ" },
    });
  });

  it("makes each photo's BMP once and reuses it", async () => {
    await call();
    const imageCalls = () => nasa.requests.filter((r) => r.route === "images").length;
    const before = imageCalls();
    const again = await call();
    expect(again.statusCode).toBe(200);
    expect(imageCalls()).toBe(before);
  });

  it("serves the last good weather, marked stale, when the weather source fails", async () => {
    const fresh = await call();
    nasa.setMode({ weather: "fail" });
    const stale = await call();
    expect(stale.statusCode).toBe(200);
    expect(stale.json.stale).toBe(true);
    expect(stale.json.insight).toEqual(fresh.json.insight);
    expect((await fetch(stale.json.image_url)).status).toBe(200);
    expect(stdout.text().some((l) => l.includes('"part":"weather"') && l.includes("HTTP 500"))).toBe(true);
  });

  it.each([
    ["photos", "fail"],
    ["photos", "bad-data"],
    ["weather", "bad-data"],
  ] as const)("serves the last good answer when %s is %s", async (route, mode) => {
    const fresh = await call();
    nasa.setMode({ [route]: mode });
    const stale = await call();
    expect(stale.statusCode).toBe(200);
    expect(stale.json.stale).toBe(true);
    expect(new URL(stale.json.image_url).pathname).toBe(new URL(fresh.json.image_url).pathname);
    expect(stale.json.insight).toEqual(fresh.json.insight);
  });

  it("does not hang on a slow NASA: the upstream timeout gives the stale answer", async () => {
    await call();
    setEnvironment({ UPSTREAM_TIMEOUT_MS: "400" });
    nasa.setMode({ photos: "slow", weather: "slow" });
    const stale = await call();
    expect(stale.statusCode).toBe(200);
    expect(stale.json.stale).toBe(true);
    // The upstream timeout ended the wait (the fixture's slow mode would answer far later).
    expect(stdout.text().some((l) => l.includes("UPSTREAM_TIMEOUT"))).toBe(true);
  });

  it("answers 502 naming what failed when there is no earlier answer to serve", async () => {
    nasa.setMode({ weather: "fail", images: "bad-data" });
    const { statusCode, json } = await call();
    expect(statusCode).toBe(502);
    expect(json.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(json.message).toContain("photo: UPSTREAM_BAD_IMAGE: the photo is not a decodable JPEG");
    expect(json.message).toContain("weather: UPSTREAM_HTTP");
    expect(json.requestId).toBe("req-mars");
  });

  it("reads the InSight format when configured, with the api_key", async () => {
    setEnvironment({ MARS_WEATHER_SOURCE: "insight", MARS_WEATHER_URL: nasa.weatherUrls.insight });
    const today = new Date();
    const { statusCode, json } = await call();
    expect(statusCode).toBe(200);
    const document = insightWeatherDocument(today) as Record<string, any>;
    const sol = document.sol_keys.at(-1);
    const round = (n: number) => Math.round(n * 10) / 10;
    expect(json.insight).toEqual({
      sol,
      av_at: round(document[sol].AT.av),
      av_HWS: round(document[sol].HWS.av),
      av_PRE: round(document[sol].PRE.av),
      season: document[sol].Season,
      First_UTC: document[sol].First_UTC,
      Last_UTC: document[sol].Last_UTC,
    });
    expect(nasa.requests.filter((r) => r.path.startsWith("/insight_weather")).at(-1)?.query.api_key).toBe(NASA_KEY);
  });

  it("says which setting is wrong when misconfigured", async () => {
    setEnvironment({ MARS_WEATHER_SOURCE: "weather-balloon", MARS_WEATHER_URL: "" });
    const { statusCode, json } = await call();
    expect(statusCode).toBe(500);
    expect(json.code).toBe("FUNCTION_MISCONFIGURED");
    expect(json.message).toContain("MARS_WEATHER_URL is not set");
    expect(json.message).toContain('MARS_WEATHER_SOURCE must be one of msl-rems, insight, got "weather-balloon"');
  });

  it("reports NASA refusing the key without showing the key", async () => {
    const strict = await startNasaFixtureServer({ apiKey: "another-key" });
    try {
      setEnvironment({ MARS_PHOTOS_API_URL: strict.photosApiUrl, MARS_WEATHER_URL: strict.weatherUrls["msl-rems"] });
      const { statusCode, json } = await call();
      expect(statusCode).toBe(502);
      expect(json.message).toContain("answered HTTP 403");
      expect(json.message).toContain("api_key=***");
      expect(json.message).not.toContain(NASA_KEY);
    } finally {
      await strict.stop();
    }
  });

  it("never logs the NASA key", () => {
    expect(stdout.text().length).toBeGreaterThan(0);
    expect(stdout.text().join("\n")).not.toContain(NASA_KEY);
  });

  it("made only BMPs that CircuitPython's OnDiskBitmap reads (checked by the simulator's rules)", () => {
    const images = state.listBuckets().flatMap((b) => state.listObjects(b.name, "images/").map((o) => state.getObject(b.name, o.key)));
    expect(images.length).toBeGreaterThan(3);
    const dir = mkdtempSync(join(tmpdir(), "mars-bmps-"));
    try {
      const files = images.map((image, i) => {
        const file = join(dir, `${i}.bmp`);
        writeFileSync(file, image.body);
        return file;
      });
      const reports = JSON.parse(execFileSync("python3", ["-m", "sim.bmp", ...files], { cwd: FIRMWARE, encoding: "utf8" })) as Record<string, unknown>[];
      for (const report of reports) {
        expect(report).toMatchObject({ ok: true, width: 320, height: 240, bits_per_pixel: 16, compression: 3, header_size: 108, pixel_format: "rgb565", stride: 640 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
