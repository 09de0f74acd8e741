// What the NASA fixture server serves, generated from the date alone so that every run (and every
// machine) sees the same photos, images and weather: rover photo lists in the shape of the Mars
// Rover Photos API, JPEGs of a Martian scene drawn for each photo id, and weather documents in
// the shapes of the Curiosity REMS feed and the (retired) InSight weather API.
import jpeg from "jpeg-js";

const DAY_MS = 86_400_000;
/** A sol is 24 h 39 min 35.244 s. */
const SOL_MS = 88_775_244;
const CURIOSITY_LANDING = Date.UTC(2012, 7, 6, 5, 17, 57);
const INSIGHT_LANDING = Date.UTC(2018, 10, 26, 19, 52, 59);

export interface FixtureCamera {
  id: number;
  name: string;
  full_name: string;
  width: number;
  height: number;
}

/** Curiosity cameras with the frame sizes the fixture draws (smaller than the real ones, same shapes). */
export const CAMERAS: readonly FixtureCamera[] = [
  { id: 22, name: "MAST", full_name: "Mast Camera", width: 672, height: 600 },
  { id: 26, name: "NAVCAM", full_name: "Navigation Camera", width: 512, height: 512 },
  { id: 20, name: "FHAZ", full_name: "Front Hazard Avoidance Camera", width: 512, height: 512 },
];

export interface RoverPhoto {
  id: number;
  sol: number;
  camera: { id: number; name: string; rover_id: number; full_name: string };
  img_src: string;
  earth_date: string;
  rover: { id: number; name: string; landing_date: string; launch_date: string; status: string };
}

const CURIOSITY = { id: 5, name: "Curiosity", landing_date: "2012-08-06", launch_date: "2011-11-26", status: "active" };

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function dayNumber(earthDate: string): number {
  return Math.floor(Date.parse(`${earthDate}T00:00:00Z`) / DAY_MS);
}

export function curiositySol(at: number): number {
  return Math.floor((at - CURIOSITY_LANDING) / SOL_MS);
}

/** Photo ids encode their day, so the newest photo of the newest day has the highest id. */
export function photoId(earthDate: string, index: number): number {
  return dayNumber(earthDate) * 10 + index;
}

export function cameraOf(id: number): FixtureCamera {
  return CAMERAS[id % 10 % CAMERAS.length];
}

export function roverPhotos(earthDate: string, count: number, imageBaseUrl: string): RoverPhoto[] {
  const midday = Date.parse(`${earthDate}T12:00:00Z`);
  if (midday < CURIOSITY_LANDING) return [];
  return Array.from({ length: count }, (_, index) => {
    const id = photoId(earthDate, index);
    const camera = cameraOf(id);
    return {
      id,
      sol: curiositySol(midday),
      camera: { id: camera.id, name: camera.name, rover_id: CURIOSITY.id, full_name: camera.full_name },
      img_src: `${imageBaseUrl}/${id}.jpg`,
      earth_date: earthDate,
      rover: CURIOSITY,
    };
  });
}

/** A small deterministic pseudo-random sequence (mulberry32), seeded by the photo id. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Martian scene for a photo: butterscotch sky fading to the horizon, ridges, a rocky plain
 * with shaded rocks, and a stripe at the bottom-left whose colour encodes the id (tests can tell
 * the photos apart from their pixels).
 */
export function photoRgba(id: number): { width: number; height: number; data: Buffer } {
  const { width, height } = cameraOf(id);
  const rand = random(id);
  const horizon = height * (0.35 + rand() * 0.2);
  const ridge = { amplitude: height * (0.03 + rand() * 0.05), phase: rand() * Math.PI * 2, period: width / (1.5 + rand() * 2) };
  const rocks = Array.from({ length: 14 }, () => ({ x: rand() * width, y: horizon + rand() * (height - horizon), r: 4 + rand() * width * 0.05 }));
  const marker = [(id * 37) % 256, (id * 91) % 256, (id * 53) % 256];
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const ground = horizon + ridge.amplitude * Math.sin(x / ridge.period * Math.PI * 2 + ridge.phase);
      let rgb: number[];
      if (y < ground) {
        const t = y / ground;
        rgb = [200 + 35 * t, 160 + 40 * t, 120 + 30 * t];
      } else {
        const depth = (y - ground) / (height - ground);
        const grain = ((x * 7 + y * 13 + id) % 17) - 8;
        rgb = [150 + 50 * depth + grain, 85 + 25 * depth + grain, 50 + 10 * depth + grain];
        for (const rock of rocks) {
          const dx = x - rock.x;
          const dy = y - rock.y;
          if (dx * dx + dy * dy < rock.r * rock.r) {
            const light = 0.55 + 0.45 * Math.max(0, -(dx + dy) / (rock.r * 1.5));
            rgb = [110 * light, 70 * light, 50 * light];
          }
        }
      }
      if (x < width * 0.1 && y > height * 0.92) rgb = marker;
      data[i] = clampByte(rgb[0]);
      data[i + 1] = clampByte(rgb[1]);
      data[i + 2] = clampByte(rgb[2]);
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

function clampByte(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}

export function photoJpeg(id: number): Buffer {
  return Buffer.from(jpeg.encode(photoRgba(id), 85).data);
}

/** One sol of the Curiosity REMS feed; like the real feed, every value is a string and "--" means no reading. */
export interface RemsSol {
  id: string;
  terrestrial_date: string;
  sol: string;
  ls: string;
  season: string;
  min_temp: string;
  max_temp: string;
  pressure: string;
  pressure_string: string;
  abs_humidity: string;
  wind_speed: string;
  wind_direction: string;
  atmo_opacity: string;
  sunrise: string;
  sunset: string;
}

/** The REMS feed as of `today`: the last 7 sols before today, newest first. */
export function remsWeatherDocument(today: Date, sols = 7): { descriptions: Record<string, string>; soles: RemsSol[] } {
  const latest = curiositySol(today.getTime()) - 1;
  const soles = Array.from({ length: sols }, (_, i): RemsSol => {
    const sol = latest - i;
    const start = CURIOSITY_LANDING + sol * SOL_MS;
    const ls = Math.floor(((sol * 360) / 668.6) % 360);
    return {
      id: String(sol + 100),
      terrestrial_date: isoDate(new Date(start)),
      sol: String(sol),
      ls: String(ls),
      season: `Month ${Math.floor(ls / 30) + 1}`,
      min_temp: String(-85 + (sol % 11)),
      max_temp: String(-12 + (sol % 7)),
      pressure: String(700 + (sol % 150)),
      pressure_string: "Higher",
      abs_humidity: "--",
      wind_speed: "--",
      wind_direction: "--",
      atmo_opacity: "Sunny",
      sunrise: "05:19",
      sunset: "17:27",
    };
  });
  return { descriptions: { disclaimer_en: "Fixture data generated for the local cloud, not REMS measurements." }, soles };
}

interface InsightSensor {
  av: number;
  ct: number;
  mn: number;
  mx: number;
}

/** The InSight weather API document as of `today` (its shape: `sol_keys` and one object per sol). */
export function insightWeatherDocument(today: Date, sols = 7): Record<string, unknown> {
  const latest = Math.floor((today.getTime() - INSIGHT_LANDING) / SOL_MS) - 1;
  const keys = Array.from({ length: sols }, (_, i) => String(latest - sols + 1 + i));
  const sensor = (av: number, spread: number): InsightSensor => ({ av, ct: 100_000, mn: av - spread, mx: av + spread });
  const document: Record<string, unknown> = { sol_keys: keys, validity_checks: { sols_checked: keys } };
  for (const key of keys) {
    const sol = Number(key);
    const start = INSIGHT_LANDING + sol * SOL_MS;
    document[key] = {
      AT: sensor(-60 - (sol % 9) - 0.125, 35),
      HWS: sensor(4 + (sol % 5) + 0.25, 3),
      PRE: sensor(720 + (sol % 40) + 0.5, 15),
      WD: {},
      Season: ["spring", "summer", "fall", "winter"][Math.floor(sol / 167) % 4],
      First_UTC: new Date(start).toISOString().replace(/\.\d{3}Z$/, "Z"),
      Last_UTC: new Date(start + SOL_MS - 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  }
  return document;
}
