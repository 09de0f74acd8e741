// The Lambda runtime inside one execution environment (a worker thread with its own
// process.env): loads the function's bundle once, then runs one invocation at a time, as a warm
// Lambda container does. With the JSON log format its console methods write JSON with their level
// and the invocation's request id, and those below AWS_LAMBDA_LOG_LEVEL write nothing, as the
// Node.js runtime's do; each invocation gets its X-Ray trace header in _X_AMZN_TRACE_ID. Plain
// CommonJS so that it runs without any loader.
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const { format } = require("node:util");
const { pathToFileURL } = require("node:url");

const { codeDir, handler: handlerSetting, clock } = workerData;

// The function lives on the local cloud's clock (local/lib/clock.ts): `Date` (now and `new Date()`)
// reads the shared clock state, as every other part of the cloud does. Durations (performance.now,
// timers) stay on real time: the code runs no faster than the machine.
if (clock) {
  const view = new Float64Array(clock);
  const RealDate = Date;
  // Whole milliseconds, as Date.now() gives them.
  const localNow = () => Math.floor(view[0] === 1 ? view[3] : view[1] + (RealDate.now() - view[1]) * view[2]);
  // A function rather than a class: `Date()` called without `new` returns the time as a string.
  function LocalDate(...args) {
    if (!new.target) return new RealDate(localNow()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [localNow()] : args, new.target);
  }
  Object.setPrototypeOf(LocalDate, RealDate);
  LocalDate.prototype = RealDate.prototype;
  LocalDate.now = localNow;
  globalThis.Date = LocalDate;
}
const realNow = () => performance.timeOrigin + performance.now();

let currentRequestId;
/** Written to stdout and stderr after an invocation's output (local/lambda/function-log.ts reads it). */
const OUTPUT_END = "\u0000local-lambda-output-end:";

const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/** The console methods and the level the Node.js runtime gives each. */
const CONSOLE_LEVELS = { trace: "TRACE", debug: "DEBUG", info: "INFO", log: "INFO", warn: "WARN", error: "ERROR" };

function jsonLogLine(level, params) {
  const record = { timestamp: new Date().toISOString(), level, requestId: currentRequestId };
  if (params.length === 1 && !(params[0] instanceof Error)) {
    record.message = params[0];
    try {
      return JSON.stringify(record);
    } catch {
      record.message = format(params[0]);
      return JSON.stringify(record);
    }
  }
  record.message = format(...params);
  const error = params.find((p) => p instanceof Error);
  if (error) Object.assign(record, { errorType: error.name, errorMessage: error.message, stackTrace: String(error.stack || "").split("\n") });
  return JSON.stringify(record);
}

if (process.env.AWS_LAMBDA_LOG_FORMAT === "JSON") {
  const threshold = LEVELS.indexOf(String(process.env.AWS_LAMBDA_LOG_LEVEL || "TRACE").toUpperCase());
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    console[method] = LEVELS.indexOf(level) < threshold ? () => {} : (...params) => process.stdout.write(`${jsonLogLine(level, params)}\n`);
  }
}


if ((process.env.NODE_OPTIONS || "").includes("--enable-source-maps") && process.setSourceMapsEnabled) {
  process.setSourceMapsEnabled(true);
}

function errorPayload(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || "Error",
      errorMessage: error.message,
      trace: String(error.stack || "").split("\n"),
    };
  }
  // `throw "text"` or callback("text"): Lambda reports it as a plain error message.
  return { errorType: "Error", errorMessage: typeof error === "string" ? error : JSON.stringify(error) };
}

let handlerFunction;
/** Loads the handler as Lambda's Node runtime does: `<module>.mjs` as an ES module, else `<module>.js`. */
async function loadHandler() {
  if (handlerFunction) return handlerFunction;
  const dot = handlerSetting.lastIndexOf(".");
  if (dot < 1) {
    const error = new Error(`Bad handler ${handlerSetting}: expected <module>.<export>`);
    error.name = "Runtime.MalformedHandlerName";
    throw error;
  }
  const moduleName = handlerSetting.slice(0, dot);
  const exportName = handlerSetting.slice(dot + 1);
  const base = path.join(codeDir, moduleName);
  let loaded;
  try {
    if (fs.existsSync(`${base}.mjs`)) loaded = await import(pathToFileURL(`${base}.mjs`).href);
    else loaded = require(base);
  } catch (cause) {
    const error = new Error(`Cannot load module ${moduleName}: ${cause.message}`);
    error.name = cause.code === "MODULE_NOT_FOUND" || cause.code === "ERR_MODULE_NOT_FOUND" ? "Runtime.ImportModuleError" : "Runtime.UserCodeSyntaxError";
    throw error;
  }
  const fn = loaded[exportName];
  if (typeof fn !== "function") {
    const error = new Error(`${moduleName}.${exportName} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  handlerFunction = fn;
  return fn;
}

function invoke(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (error, result) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (result) => callback(null, result);
    context.fail = (error) => callback(error === undefined ? new Error("handled") : error);
    try {
      const returned = fn(event, context, callback);
      if (returned && typeof returned.then === "function") returned.then((r) => callback(null, r), (e) => callback(e));
      else if (fn.length < 3) callback(null, returned);
    } catch (error) {
      callback(error);
    }
  });
}

parentPort.on("message", async (message) => {
  const { requestId, event, context: contextData, traceId } = message;
  currentRequestId = requestId;
  if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
  else delete process.env._X_AMZN_TRACE_ID;
  const deadline = contextData.deadline;
  const context = {
    ...contextData,
    awsRequestId: requestId,
    callbackWaitsForEmptyEventLoop: true,
    // The deadline is a real-time limit on the work (see local/lib/clock.ts).
    getRemainingTimeInMillis: () => Math.max(0, Math.floor(deadline - realNow())),
  };
  let answer;
  try {
    const fn = await loadHandler();
    const result = await invoke(fn, event, context);
    try {
      answer = { requestId, payload: result === undefined ? "null" : JSON.stringify(result) };
    } catch (error) {
      answer = { requestId, error: { errorType: "Runtime.ResponseSerializationError", errorMessage: error.message } };
    }
  } catch (error) {
    answer = { requestId, error: errorPayload(error) };
  }
  // The invocation's output comes before its end, as Lambda logs it: a marker on each stream
  // tells the local Lambda that everything written before it has arrived.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write(`${OUTPUT_END}${requestId}\n`, resolve))));
  parentPort.postMessage(answer);
});

parentPort.postMessage({ ready: true });
