// One log line per closed window (code WINDOW_CLOSED) with the rows the application's windowed
// GROUP BY streams got for it: what the runtime counted, for operators and for the benchmarks
// that check no record was lost or counted twice.
import type { Application, Value } from "../lib/streaming-sql";
import { log } from "./meter";

/** Rows per stream and window written to the log; a GROUP BY with more keys says how many it left out. */
const LOGGED_ROWS = 50;

export interface WindowWatch {
  /** Logs the windows closed since the last flush; returns how many. */
  flush(): number;
  stop(): void;
}

export function watchWindows(app: Application): WindowWatch {
  const windows = new Map<number, Record<string, Value[][]>>();
  const stops = app.windowStreams.map((stream) =>
    app.subscribe(stream, (row) => {
      const window = windows.get(row.rowtime) ?? {};
      (window[stream] ??= []).push(row.values);
      windows.set(row.rowtime, window);
    }),
  );
  return {
    flush() {
      const ends = [...windows.keys()].sort((a, b) => a - b);
      for (const end of ends) {
        const streams = windows.get(end)!;
        const rows = Object.fromEntries(Object.entries(streams).map(([stream, values]) => [stream, values.slice(0, LOGGED_ROWS)]));
        const left = Object.fromEntries(Object.entries(streams).filter(([, v]) => v.length > LOGGED_ROWS).map(([stream, v]) => [stream, v.length - LOGGED_ROWS]));
        log("info", "WINDOW_CLOSED", { end, rows, ...(Object.keys(left).length > 0 ? { rowsNotLogged: left } : {}) });
      }
      windows.clear();
      return ends.length;
    },
    stop() {
      for (const stop of stops) stop();
    },
  };
}
