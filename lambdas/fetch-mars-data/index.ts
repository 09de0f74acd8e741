// FetchMarsData, behind GET /mars (API key required): the latest Curiosity photo as a 320x240
// BMP in the private bucket, handed out as a presigned URL, and the latest Mars weather.
//   200 {"image_url", "insight": {sol, av_at, av_HWS, av_PRE, season, First_UTC, Last_UTC}, "stale"}
// The photo and the weather are fetched in parallel, each under a time limit. A part that fails
// is taken from the last good answer and the response says "stale": true; with no last good
// answer for it the function answers 502 with what failed, never a hang.
import { S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { json, type ProxyResult } from "../lib/http";
import { METRICS } from "../lib/metric-names";
import { countEvent, instrumented, logger, traced } from "../lib/observability";
import { readConfig, type HandlerConfig } from "./config";
import { photoToDisplayBmp } from "./image";
import { latestPhoto } from "./photos";
import { DisplayStore, imageKey } from "./store";
import { fetchBytes, type FetchLimits } from "./upstream";
import { WEATHER_SOURCES, type Insight } from "./weather";

/** Time kept back from the Lambda timeout for reading the last good answer and presigning. */
const RESERVED_MS = 3000;
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

// AWS calls get time limits too: a hung S3 or SSM connection must not outlive the invocation.
const awsRequestHandler = () => new NodeHttpHandler({ connectionTimeout: 2000, requestTimeout: 5000 });
const s3 = traced(new S3Client({ requestHandler: awsRequestHandler(), maxAttempts: 2 }));
const ssm = traced(new SSMClient({ requestHandler: awsRequestHandler(), maxAttempts: 2 }));

/** Read once per container; a failed read is retried on the next invocation. */
let nasaApiKey: Promise<string> | undefined;
function readNasaApiKey(parameter: string): Promise<string> {
  nasaApiKey ??= ssm
    .send(new GetParameterCommand({ Name: parameter, WithDecryption: true }))
    .then(({ Parameter }) => {
      if (!Parameter?.Value) throw new Error(`SSM parameter ${parameter} has no value`);
      return Parameter.Value;
    })
    .catch((error) => {
      nasaApiKey = undefined;
      throw error;
    });
  return nasaApiKey;
}

interface Part<T> {
  value?: T;
  failure?: string;
}

async function part<T>(name: string, work: () => Promise<T>): Promise<Part<T>> {
  try {
    return { value: await work() };
  } catch (error) {
    const e = error as Error & { code?: string };
    const failure = `${name}: ${e.code ?? e.name}: ${e.message}`;
    logger.warn("NASA did not deliver a part of the answer", { part: name, code: e.code ?? e.name, error: e.message });
    countEvent(METRICS.marsUpstreamFailures, { part: name });
    return { failure };
  }
}

export const handler = instrumented(async (_event: unknown, context): Promise<ProxyResult> => {
  let config: HandlerConfig;
  try {
    config = readConfig(process.env);
  } catch (error) {
    const e = error as Error & { code: string };
    return json(500, { code: e.code, message: e.message, requestId: context.awsRequestId });
  }
  const store = new DisplayStore(s3, config.bucket);
  const deadline = AbortSignal.timeout(Math.max(1000, context.getRemainingTimeInMillis() - RESERVED_MS));
  const limits = (maxBytes = 0): FetchLimits => ({ signal: AbortSignal.any([deadline, AbortSignal.timeout(config.upstreamTimeoutMs)]), maxBytes });

  const [image, weather] = await Promise.all([
    part("photo", async () => {
      const photo = await latestPhoto({
        photosApiUrl: config.photosApiUrl,
        apiKey: await readNasaApiKey(config.nasaApiKeyParameter),
        lookbackDays: config.photoLookbackDays,
        today: new Date(),
        limits,
      });
      const key = imageKey(photo);
      if (!(await store.has(key))) {
        const bmp = photoToDisplayBmp(await fetchBytes(photo.imgSrc, limits(MAX_IMAGE_BYTES)));
        await store.putImage(key, bmp, photo);
      }
      return key;
    }),
    part("weather", async (): Promise<Insight> =>
      WEATHER_SOURCES[config.weatherSource]({ url: config.weatherUrl, apiKey: await readNasaApiKey(config.nasaApiKeyParameter), limits: limits() }),
    ),
  ]);

  const stale = image.failure !== undefined || weather.failure !== undefined;
  const lastGood = stale
    ? await store.readLastGood().catch((error) => {
        logger.warn("the last good answer could not be read", { error: (error as Error).message });
        return undefined;
      })
    : undefined;
  const answer = { imageKey: image.value ?? lastGood?.imageKey, insight: weather.value ?? lastGood?.insight };
  if (!answer.imageKey || !answer.insight) {
    return json(502, {
      code: "UPSTREAM_UNAVAILABLE",
      message: `NASA could not be read and there is no earlier answer to serve: ${[image.failure, weather.failure].filter(Boolean).join("; ")}`,
      requestId: context.awsRequestId,
    });
  }
  if (image.value || weather.value) {
    await store
      .writeLastGood({ imageKey: answer.imageKey, insight: answer.insight, updatedAt: new Date().toISOString() })
      .catch((error) => logger.warn("the last good answer could not be saved", { error: (error as Error).message }));
  }
  if (stale) countEvent(METRICS.marsStaleAnswers);
  return json(
    200,
    { image_url: await store.presign(answer.imageKey, config.imageUrlTtlSeconds), insight: answer.insight, stale },
    { "cache-control": "no-store" },
  );
});
