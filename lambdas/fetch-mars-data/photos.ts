// The latest Curiosity photo from the Mars Rover Photos API. Photos of a day appear some time
// after it, so the search starts today (UTC) and walks back one day at a time, as the original
// backend did, until a day has photos. Of that day the photo with the highest id is taken: the
// most recent one, and the same one on every call, so its BMP is made once and then reused.
import { fetchJson, UpstreamError, type FetchLimits } from "./upstream";

export interface RoverPhoto {
  id: number;
  imgSrc: string;
  earthDate: string;
  sol: number;
  camera: string;
}

export interface PhotoSearch {
  photosApiUrl: string;
  apiKey: string;
  /** Days to look at, today included. */
  lookbackDays: number;
  today: Date;
  limits: () => FetchLimits;
}

const MAX_LIST_BYTES = 8 * 1024 * 1024;

export async function latestPhoto(search: PhotoSearch): Promise<RoverPhoto> {
  for (let daysAgo = 0; daysAgo < search.lookbackDays; daysAgo++) {
    const earthDate = new Date(search.today.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    const url = new URL(`${search.photosApiUrl.replace(/\/+$/, "")}/rovers/curiosity/photos`);
    url.searchParams.set("earth_date", earthDate);
    url.searchParams.set("api_key", search.apiKey);
    const photos = parsePhotos(await fetchJson(url.toString(), { ...search.limits(), maxBytes: MAX_LIST_BYTES }), earthDate);
    if (photos.length > 0) return photos.reduce((latest, p) => (p.id > latest.id ? p : latest));
  }
  throw new UpstreamError("UPSTREAM_BAD_DATA", `Curiosity has no photos in the last ${search.lookbackDays} days (from ${search.today.toISOString().slice(0, 10)} back)`);
}

function parsePhotos(document: unknown, earthDate: string): RoverPhoto[] {
  const photos = (document as { photos?: unknown } | null)?.photos;
  if (!Array.isArray(photos)) throw new UpstreamError("UPSTREAM_BAD_DATA", `the photo list for ${earthDate} has no "photos" array`);
  return photos.map((photo, index) => {
    const p = photo as Record<string, unknown> | null;
    const camera = (p?.camera as Record<string, unknown> | undefined)?.name;
    const imgSrc = p?.img_src;
    if (!Number.isSafeInteger(p?.id) || typeof imgSrc !== "string" || !/^https?:\/\//.test(imgSrc)) {
      throw new UpstreamError("UPSTREAM_BAD_DATA", `photo ${index} of ${earthDate} needs an integer "id" and an http(s) "img_src"`);
    }
    return {
      id: p!.id as number,
      imgSrc,
      earthDate: typeof p!.earth_date === "string" ? p!.earth_date : earthDate,
      sol: Number.isSafeInteger(p!.sol) ? (p!.sol as number) : -1,
      camera: typeof camera === "string" ? camera : "unknown",
    };
  });
}
