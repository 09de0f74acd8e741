// Generated request bodies that a schema of `schemas/` refuses: mutations of a valid sample
// (wrong types, missing and extra fields, over-long and unicode strings, nested junk) and
// documents that are not JSON at all. Each JSON candidate is checked with ajv against the same
// schema file API Gateway gets, so every body returned is invalid by construction.
import Ajv from "ajv-draft-04";
import { loadSchema } from "../../modules/api-models";
import { MODEL_NAMES, type ModelName } from "../../schemas/routes";
import { SeededRandom } from "../../lambdas/lib/seeded-random";

export function schemaValidator(name: ModelName) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const model of MODEL_NAMES) ajv.addSchema(loadSchema(model), `${model}.json`);
  return ajv.getSchema(`${name}.json`)!;
}

const UNICODE = ["é", "漢字", "🙂", "\u0000", "\u202e", "\ud800", "\"", "\\", "'", "</script>", "$context.requestId", "#set($x = 1)"];

function junk(random: SeededRandom, depth: number): unknown {
  const pick = Math.floor(random.next() * 9);
  switch (depth > 3 ? pick % 5 : pick) {
    case 0: return null;
    case 1: return random.next() * 1e12 - 5e11;
    case 2: return random.next() < 0.5;
    case 3: return UNICODE[Math.floor(random.next() * UNICODE.length)].repeat(1 + Math.floor(random.next() * 5));
    case 4: return "x".repeat(Math.floor(random.next() * 5000));
    case 5: return [junk(random, depth + 1), junk(random, depth + 1)];
    default: return { [UNICODE[Math.floor(random.next() * UNICODE.length)]]: junk(random, depth + 1), nested: junk(random, depth + 1) };
  }
}

function mutate(value: unknown, random: SeededRandom): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || random.next() < 0.2) return random.next() < 0.5 ? [] : junk(random, 0);
    const copy = [...value];
    const i = Math.floor(random.next() * copy.length);
    copy[i] = mutate(copy[i], random);
    return copy;
  }
  if (value && typeof value === "object") {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const key = keys[Math.floor(random.next() * keys.length)];
    const how = random.next();
    if (how < 0.25) delete copy[key];
    else if (how < 0.35) copy[`extra${UNICODE[Math.floor(random.next() * UNICODE.length)]}`] = junk(random, 1);
    else copy[key] = random.next() < 0.5 ? junk(random, 1) : mutate(copy[key], random);
    return copy;
  }
  if (typeof value === "string") {
    const how = random.next();
    if (how < 0.3) return value.repeat(1000);
    if (how < 0.5) return "";
    return junk(random, 1);
  }
  return junk(random, 1);
}

const MAX_BODY_CHARS = 1024 * 1024;

const NOT_JSON = ["", "{", "[", "{\"a\":}", "null garbage", "<xml/>", "pageId=x&message=y", "\u0000\u0001", "{'single': 'quotes'}", "[1,2,", "🙂"];

/** `count` request bodies that `schema` refuses, reproducible from `seed`. */
export function invalidBodies(name: ModelName, sample: unknown, count: number, seed: number): string[] {
  const validate = schemaValidator(name);
  const random = new SeededRandom(seed);
  const bodies: string[] = [];
  for (let attempt = 0; bodies.length < count; attempt++) {
    if (attempt > count * 50) throw new Error(`could not generate ${count} invalid ${name} bodies`);
    if (random.next() < 0.1) {
      const text = NOT_JSON[Math.floor(random.next() * NOT_JSON.length)];
      bodies.push(random.next() < 0.5 ? text : text + JSON.stringify(sample).slice(0, Math.floor(random.next() * 40)));
      continue;
    }
    let candidate = mutate(sample, random);
    if (random.next() < 0.3) candidate = mutate(candidate, random);
    const text = JSON.stringify(candidate);
    // Bodies over API Gateway's 10 MB payload limit get 413 before validation: not this contract.
    if (!validate(candidate) && text.length < MAX_BODY_CHARS) bodies.push(text);
  }
  return bodies;
}
