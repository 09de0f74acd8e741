// The NASA APIs the Mars display backend calls, on loopback, with switches that make each part
// slow, fail or answer nonsense, so that the backend's timeouts, stale answers and error
// handling can be exercised:
//   GET /mars-photos/api/v1/rovers/curiosity/photos?earth_date=YYYY-MM-DD&api_key=K
//   GET /msl-raw-images/<id>.jpg
//   GET /rss/api/?feed=weather&category=msl&feedtype=json     (Curiosity REMS weather)
//   GET /insight_weather/?api_key=K&feedtype=json&ver=1.0      (InSight, retired in 2022)
import { jsonResponse, serveHttp, type HttpRequest, type HttpResponse } from "../../lib/http-serve";
import { insightWeatherDocument, isoDate, photoJpeg, remsWeatherDocument, roverPhotos } from "./fixtures";

export type NasaRoute = "photos" | "images" | "weather";
/** ok; slow: holds the response for `slowMs`; fail: HTTP 500; bad-data: a 200 whose body is unusable. */
export type NasaMode = "ok" | "slow" | "fail" | "bad-data";

export interface NasaFixtureOptions {
  /** The api_key the api.nasa.gov routes require; default "DEMO_KEY". */
  apiKey?: string;
  /** The fixture's clock: which day is "today". Default: the real clock. */
  today?: () => Date;
  /** Days before today (today included) that have no photos yet: the backend must walk back. Default 1. */
  emptyRecentDays?: number;
  photosPerDay?: number;
  /** How long a "slow" route holds its answer; default 60 s (stop() releases it). */
  slowMs?: number;
  port?: number;
}

export interface NasaRequestRecord {
  route: NasaRoute | "unknown";
  path: string;
  query: Record<string, string>;
}

export interface RunningNasaFixture {
  url: string;
  /** Base URL of the rover photos API (config `mars.photosApiUrl`). */
  photosApiUrl: string;
  /** Weather URLs per source kind (config `mars.weatherUrl`). */
  weatherUrls: { "msl-rems": string; insight: string };
  setMode(modes: Partial<Record<NasaRoute, NasaMode>>): void;
  /** Every request received, oldest first (the api_key included: this is a test double's log). */
  readonly requests: readonly NasaRequestRecord[];
  stop(): Promise<void>;
}

const PHOTOS_PATH = /^\/mars-photos\/api\/v1\/rovers\/([^/]+)\/photos\/?$/;
const IMAGE_PATH = /^\/msl-raw-images\/(\d+)\.jpg$/;

export async function startNasaFixtureServer(options: NasaFixtureOptions = {}): Promise<RunningNasaFixture> {
  const apiKey = options.apiKey ?? "DEMO_KEY";
  const today = options.today ?? (() => new Date());
  const emptyRecentDays = options.emptyRecentDays ?? 1;
  const photosPerDay = options.photosPerDay ?? 3;
  const slowMs = options.slowMs ?? 60_000;
  const modes: Record<NasaRoute, NasaMode> = { photos: "ok", images: "ok", weather: "ok" };
  const requests: NasaRequestRecord[] = [];
  const images = new Map<number, Buffer>();
  const held = new Set<NodeJS.Timeout>();
  let url = "";

  const hold = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        held.delete(timer);
        resolve();
      }, ms);
      held.add(timer);
    });

  const route = (path: string): NasaRoute | "unknown" =>
    PHOTOS_PATH.test(path) ? "photos" : IMAGE_PATH.test(path) ? "images" : /^\/(rss\/api|insight_weather)\/?$/.test(path) ? "weather" : "unknown";

  async function answer(request: HttpRequest): Promise<HttpResponse> {
    const { pathname, searchParams } = new URL(request.url, "http://nasa.local");
    const which = route(pathname);
    requests.push({ route: which, path: pathname, query: Object.fromEntries(searchParams) });
    if (which === "unknown" || request.method !== "GET") {
      return sendJson(404, { error: { code: "NOT_FOUND", message: `No fixture at ${request.method} ${pathname}` } });
    }
    const mode = modes[which];
    if (mode === "slow") await hold(slowMs);
    if (mode === "fail") return sendJson(500, { error: { code: "FIXTURE_FAILURE", message: `The ${which} fixture is switched to fail` } });

    const needsKey = which === "photos" || pathname.startsWith("/insight_weather");
    if (needsKey && searchParams.get("api_key") !== apiKey) {
      const code = searchParams.has("api_key") ? "API_KEY_INVALID" : "API_KEY_MISSING";
      return sendJson(403, { error: { code, message: code === "API_KEY_MISSING" ? "No api_key was supplied." : "An invalid api_key was supplied." } });
    }

    if (which === "photos") {
      const rover = PHOTOS_PATH.exec(pathname)![1];
      if (rover !== "curiosity") return sendJson(400, { errors: "Invalid Rover Name" });
      const earthDate = searchParams.get("earth_date") ?? "";
      if (!/^\d{4}-\d{2}-\d{2}$/.test(earthDate)) return sendJson(400, { errors: "earth_date must be YYYY-MM-DD" });
      if (mode === "bad-data") return sendJson(200, { photos: [{ id: "not-a-number", img_src: 42 }] });
      const daysAgo = Math.round((Date.parse(`${isoDate(today())}T00:00:00Z`) - Date.parse(`${earthDate}T00:00:00Z`)) / 86_400_000);
      const photos = daysAgo < emptyRecentDays ? [] : roverPhotos(earthDate, photosPerDay, `${url}/msl-raw-images`);
      return sendJson(200, { photos });
    }

    if (which === "images") {
      const id = Number(IMAGE_PATH.exec(pathname)![1]);
      let body = images.get(id);
      if (!body) images.set(id, (body = photoJpeg(id)));
      // A JPEG cut off halfway: starts like a JPEG, cannot be decoded.
      if (mode === "bad-data") body = body.subarray(0, Math.floor(body.length / 2));
      return { status: 200, headers: { "content-type": "image/jpeg" }, body };
    }

    if (mode === "bad-data") {
      return sendJson(200, pathname.startsWith("/insight_weather") ? { sol_keys: ["1"], "1": { AT: { av: "warm" } } } : { soles: [{ sol: "x", min_temp: "cold" }] });
    }
    if (pathname.startsWith("/insight_weather")) return sendJson(200, insightWeatherDocument(today()));
    if (searchParams.get("feed") !== "weather" || searchParams.get("category") !== "msl") {
      return sendJson(400, { error: { code: "UNKNOWN_FEED", message: "Only feed=weather&category=msl is served" } });
    }
    return sendJson(200, remsWeatherDocument(today()));
  }

  const server = await serveHttp(answer, {
    name: "nasa fixture",
    port: options.port,
    onError: (error) => sendJson(500, { error: { code: "FIXTURE_BUG", message: (error as Error).message } }),
  });
  url = server.url;

  return {
    url,
    photosApiUrl: `${url}/mars-photos/api/v1`,
    weatherUrls: {
      "msl-rems": `${url}/rss/api/?feed=weather&category=msl&feedtype=json`,
      insight: `${url}/insight_weather/?feedtype=json&ver=1.0`,
    },
    setMode(changes) {
      for (const [name, mode] of Object.entries(changes)) {
        if (!(name in modes)) throw new Error(`Unknown NASA fixture route "${name}": use photos, images or weather`);
        if (!["ok", "slow", "fail", "bad-data"].includes(mode)) throw new Error(`Unknown NASA fixture mode "${mode}": use ok, slow, fail or bad-data`);
        modes[name as NasaRoute] = mode;
      }
    },
    requests,
    async stop() {
      for (const timer of held) clearTimeout(timer);
      held.clear();
      await server.stop();
    },
  };
}

function sendJson(status: number, body: unknown): HttpResponse {
  return jsonResponse(status, body);
}
