// Mars weather for the display, from a pluggable source. The InSight weather API that the
// original backend used went silent in 2022, so the source is configured: each kind reads one
// upstream format and returns the fields the display has always shown (the InSight names).
import { fetchJson, redact, UpstreamError, type FetchLimits } from "./upstream";

/** The `insight` object of the API response (docs/design.md, Mars display). Readings a source lacks are null. */
export interface Insight {
  sol: string;
  /** Average air temperature, degrees Celsius. */
  av_at: number;
  /** Average horizontal wind speed, m/s. */
  av_HWS: number | null;
  /** Average pressure, Pa. */
  av_PRE: number | null;
  season: string;
  First_UTC: string;
  Last_UTC: string;
}

export interface WeatherRequest {
  url: string;
  apiKey: string;
  limits: FetchLimits;
}

export type WeatherSource = (request: WeatherRequest) => Promise<Insight>;

const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

/**
 * Curiosity's REMS feed (`feed=weather&category=msl`): one entry per sol, values as strings,
 * "--" for no reading. It names a terrestrial date per sol, not sampling times, so the UTC range
 * is that date; the air temperature is the mean of the sol's minimum and maximum.
 */
const mslRems: WeatherSource = async ({ url, limits }) => {
  const soles = ((await document(url, limits)) as { soles?: unknown }).soles;
  if (!Array.isArray(soles) || soles.length === 0) throw bad(url, 'has no "soles" entries');
  const readings = soles
    .map((s) => s as Record<string, unknown>)
    .map((s) => ({ s, sol: Number(s.sol), min: reading(s.min_temp), max: reading(s.max_temp) }))
    .filter((r) => Number.isInteger(r.sol) && r.min !== null && r.max !== null && /^\d{4}-\d{2}-\d{2}$/.test(String(r.s.terrestrial_date)));
  if (readings.length === 0) throw bad(url, "has no sol with a sol number, a date and both temperatures");
  const latest = readings.reduce((a, b) => (b.sol > a.sol ? b : a));
  const date = String(latest.s.terrestrial_date);
  return {
    sol: String(latest.sol),
    av_at: round1((latest.min! + latest.max!) / 2),
    av_HWS: reading(latest.s.wind_speed),
    av_PRE: reading(latest.s.pressure),
    season: typeof latest.s.season === "string" && latest.s.season ? latest.s.season : "unknown",
    First_UTC: `${date}T00:00:00Z`,
    Last_UTC: `${date}T23:59:59Z`,
  };
};

/** The InSight weather API document (`sol_keys` and one object per sol with AT/HWS/PRE averages). */
const insight: WeatherSource = async ({ url, apiKey, limits }) => {
  const withKey = new URL(url);
  withKey.searchParams.set("api_key", apiKey);
  const doc = (await document(withKey.toString(), limits)) as Record<string, unknown>;
  const keys = doc.sol_keys;
  if (!Array.isArray(keys) || keys.length === 0) throw bad(url, 'has no "sol_keys"');
  const key = String(keys[keys.length - 1]);
  const sol = doc[key] as Record<string, { av?: unknown } | undefined> | undefined;
  const average = (sensor: string) => (typeof sol?.[sensor]?.av === "number" && Number.isFinite(sol[sensor]!.av) ? (sol[sensor]!.av as number) : null);
  const temperature = average("AT");
  const [first, last] = [sol?.First_UTC, sol?.Last_UTC];
  if (temperature === null || typeof first !== "string" || typeof last !== "string" || Number.isNaN(Date.parse(first)) || Number.isNaN(Date.parse(last))) {
    throw bad(url, `has no AT.av, First_UTC and Last_UTC for sol ${key}`);
  }
  return {
    sol: key,
    av_at: round1(temperature),
    av_HWS: nullableRound1(average("HWS")),
    av_PRE: nullableRound1(average("PRE")),
    season: typeof sol?.Season === "string" ? sol.Season : "unknown",
    First_UTC: first,
    Last_UTC: last,
  };
};

export const WEATHER_SOURCES = { "msl-rems": mslRems, insight } as const satisfies Record<string, WeatherSource>;
export type WeatherSourceKind = keyof typeof WEATHER_SOURCES;

async function document(url: string, limits: FetchLimits): Promise<object> {
  const doc = await fetchJson(url, { ...limits, maxBytes: MAX_DOCUMENT_BYTES });
  if (typeof doc !== "object" || doc === null) throw bad(url, "is not a JSON object");
  return doc;
}

/** A REMS value: a number (or numeric string); "--", empty or anything else is no reading. */
function reading(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function nullableRound1(n: number | null): number | null {
  return n === null ? null : round1(n);
}

function bad(url: string, problem: string): UpstreamError {
  return new UpstreamError("UPSTREAM_BAD_DATA", `the weather document at ${redact(url)} ${problem}`);
}
