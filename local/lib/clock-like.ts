// What time-dependent emulation (alarm evaluation, WAF's rate windows) needs of the local cloud's
// clock: the time, and timers that run on it. Passed in, never read from Date.now(), so that one
// clock of the local cloud (real time scaled by --time-scale, or time a test advances) drives them.

export interface ClockLike {
  /** Epoch milliseconds on the local clock. */
  now(): number;
  /** Calls `callback` every `ms` of local time; the timer never keeps the process alive. */
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** A clock that runs `timeScale` times faster than real time from `startedAt` (real epoch ms). */
export function scaledClock(timeScale: number, startedAt: number): ClockLike {
  return {
    now: () => startedAt + (Date.now() - startedAt) * timeScale,
    setInterval: (callback, ms) => setInterval(callback, Math.max(1, ms / timeScale)).unref(),
    clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  };
}
