// The function's configuration: environment variables set by modules/mars-display from
// config/environments.json. None of them is a secret: the NASA API key is read from SSM
// Parameter Store (SecureString) by name.
import { WEATHER_SOURCES, type WeatherSourceKind } from "./weather";

export interface HandlerConfig {
  /** MARS_BUCKET: private bucket for the BMPs and the last good answer. */
  bucket: string;
  /** MARS_PHOTOS_API_URL: base of the rover photos API, e.g. https://api.nasa.gov/mars-photos/api/v1 */
  photosApiUrl: string;
  /** MARS_WEATHER_SOURCE: which format MARS_WEATHER_URL serves. */
  weatherSource: WeatherSourceKind;
  /** MARS_WEATHER_URL */
  weatherUrl: string;
  /** NASA_API_KEY_PARAMETER: SSM parameter holding the api.nasa.gov key. */
  nasaApiKeyParameter: string;
  /** MARS_IMAGE_URL_TTL_SECONDS: lifetime of the presigned image URL. */
  imageUrlTtlSeconds: number;
  /** UPSTREAM_TIMEOUT_MS: limit for each call to NASA. */
  upstreamTimeoutMs: number;
  /** MARS_PHOTO_LOOKBACK_DAYS: how many days to walk back looking for photos. */
  photoLookbackDays: number;
}

export class ConfigError extends Error {
  readonly code = "FUNCTION_MISCONFIGURED";
}

export function readConfig(env: Record<string, string | undefined>): HandlerConfig {
  const problems: string[] = [];
  const text = (name: string) => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is not set`);
    return value ?? "";
  };
  const url = (name: string) => {
    const value = text(name);
    if (value && !/^https?:\/\/[^/]/.test(value)) problems.push(`${name} must be an http(s) URL, got "${value}"`);
    return value;
  };
  const integer = (name: string, min: number, max: number) => {
    const value = Number(text(name));
    if (env[name] && !(Number.isInteger(value) && value >= min && value <= max)) problems.push(`${name} must be a whole number from ${min} to ${max}, got "${env[name]}"`);
    return value;
  };
  const weatherSource = text("MARS_WEATHER_SOURCE");
  if (weatherSource && !(weatherSource in WEATHER_SOURCES)) {
    problems.push(`MARS_WEATHER_SOURCE must be one of ${Object.keys(WEATHER_SOURCES).join(", ")}, got "${weatherSource}"`);
  }
  const config: HandlerConfig = {
    bucket: text("MARS_BUCKET"),
    photosApiUrl: url("MARS_PHOTOS_API_URL"),
    weatherSource: weatherSource as WeatherSourceKind,
    weatherUrl: url("MARS_WEATHER_URL"),
    nasaApiKeyParameter: text("NASA_API_KEY_PARAMETER"),
    // SigV4 presigned URLs live at most 7 days.
    imageUrlTtlSeconds: integer("MARS_IMAGE_URL_TTL_SECONDS", 1, 604_800),
    upstreamTimeoutMs: integer("UPSTREAM_TIMEOUT_MS", 100, 60_000),
    photoLookbackDays: integer("MARS_PHOTO_LOOKBACK_DAYS", 1, 60),
  };
  if (problems.length > 0) throw new ConfigError(`FetchMarsData is misconfigured: ${problems.join("; ")}`);
  return config;
}
