// npm run clock: reads or moves the clock of the running local cloud (npm start). Moving it needs
// the manual clock (npm start -- --clock manual); the move returns once the work that fell due on
// the way (analytics windows, schedule ticks, health checks, TTL sweeps) is done.
import { parseDuration } from "../local/lib/clock";
import { defineCli, instantOption, UsageError } from "./lib/cli";
import { advanceClock, advanceClockTo, readClock, type ClockState } from "./lib/clock-client";
import { readLocalEndpoints } from "./lib/local-endpoints";

const cli = defineCli({
  command: "npm run clock --",
  summary: "Shows the local cloud's clock, or moves its manual clock forward (running what falls due on the way).",
  positionals: { value: "[show | advance <duration> | advance-to <instant>]", description: "what to do (default: show)" },
  options: {
    endpoints: { type: "string", value: "<file>", description: "the running local cloud's endpoints.json (default .local/endpoints.json)" },
  },
  notes: [
    "durations: a number and a unit (ms, s, m, h, d), e.g. 10s, 90s, 5m; instants: ISO 8601, e.g. 2026-01-01T00:00:00Z",
    "examples:",
    "  npm run clock",
    "  npm run clock -- advance 10s",
    "  npm run clock -- advance-to 2026-01-02T00:00:00Z",
  ],
});

function describe(state: ClockState): string {
  return `${state.now} (${state.mode === "manual" ? "manual clock" : `scaled clock, ${state.timeScale}x real time`})`;
}

cli.main(async ({ values, positionals }) => {
  const [action = "show", argument, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  let move: ((url: string) => Promise<ClockState>) | undefined;
  if (action === "advance") {
    if (argument === undefined) throw new UsageError("advance needs a duration, e.g. 10s");
    try {
      parseDuration(argument);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    move = (url) => advanceClock(url, argument);
  } else if (action === "advance-to") {
    if (argument === undefined) throw new UsageError("advance-to needs an instant, e.g. 2026-01-01T00:00:00Z");
    const at = instantOption("advance-to", argument);
    move = (url) => advanceClockTo(url, at);
  } else if (action !== "show") {
    throw new UsageError(`unknown action "${action}": show, advance <duration> or advance-to <instant>`);
  } else if (argument !== undefined) {
    throw new UsageError(`show takes no argument, got "${argument}"`);
  }
  const endpoints = readLocalEndpoints(values.endpoints);
  if (!endpoints.clock) throw new UsageError(`${values.endpoints ?? ".local/endpoints.json"} has no clock: it was written by an older local cloud; restart it (npm start)`);
  console.log(move ? `clock moved to ${describe(await move(endpoints.clock.url))}` : describe(await readClock(endpoints.clock.url)));
  return 0;
});
