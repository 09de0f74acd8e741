// What every `npm run` script does with its command line, on node:util parseArgs: `--help`
// prints the usage, the options and notes and exits 0; an unknown option, a missing value or a
// bad one prints one line naming it, then the usage line, and exits 2; any other failure prints
// `<command> failed: <message>` (no stack trace) and exits 1.
//
// API (for a new script):
//
//   const cli = defineCli({
//     command: "npm run drill --",                   // what the user types before the options
//     summary: "What the script does, in a sentence or two.",
//     options: {
//       region: { type: "string", value: "<region>", required: true, description: "..." },
//       status: { type: "string", value: "<fail|ok>", choices: ["fail", "ok"], description: "..." },
//       port: { type: "string", value: "<n>", default: "4600", description: "..." },
//       var: { type: "string", value: "<name=value>", multiple: true, description: "..." },
//       online: { type: "boolean", description: "..." },
//     },
//     notes: ["Lines printed after the options by --help: examples, environment, exit codes."],
//   });
//   cli.main(async ({ values, positionals }) => {    // values typed from the options above
//     const port = integerOption("port", values.port, { min: 0 });  // bad value: UsageError, exit 2
//     ...
//     return 0;                                       // exit code; undefined keeps the process running
//   });
//
// Values stay strings (`--port 4600` is "4600"); integerOption / numberOption / listOption turn
// them into numbers or lists and throw UsageError naming the option. Throw UsageError from main
// for any other mistake in what the user typed. `positionals: { value: "<file>", ... }` allows
// positional arguments. `runsAsScript(import.meta.url)` tells a script run by tsx from one imported
// by a test. Import what is heavy to load (the app's stacks, the local cloud) inside main with
// `await import(...)`, so that --help and mistakes answer at once.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export interface OptionSpec {
  type: "string" | "boolean";
  /** How the value is shown in the usage, e.g. `<region>` (string options). */
  value?: string;
  description: string;
  default?: string;
  required?: boolean;
  multiple?: boolean;
  /** The only values accepted. */
  choices?: readonly string[];
  short?: string;
}

export interface CliSpec<O extends Record<string, OptionSpec>> {
  /** What precedes the options on the command line, e.g. `npm run drill --` or `npm start --`. */
  command: string;
  summary: string;
  options: O;
  /** Positional arguments: how they are shown, and what they are. Without it, none is accepted. */
  positionals?: { value: string; description: string };
  notes?: string[];
}

type OptionValue<S extends OptionSpec> = S extends { type: "boolean" }
  ? boolean
  : S extends { multiple: true }
    ? string[]
    : S extends { default: string } | { required: true }
      ? string
      : string | undefined;

export type CliValues<O extends Record<string, OptionSpec>> = { [K in keyof O]: OptionValue<O[K]> };

export interface CliArgs<O extends Record<string, OptionSpec>> {
  values: CliValues<O>;
  positionals: string[];
}

/** A mistake in what the user typed: printed as one line with the usage, exit code 2. */
export class UsageError extends Error {
  readonly code = "USAGE";
}

export const EXIT_USAGE = 2;

export interface Cli<O extends Record<string, OptionSpec>> {
  /** The one-line usage, `usage: <command> <options>`. */
  usage: string;
  /** Parses the arguments (default: the process's) and runs `main`, handling --help, mistakes and failures as above. */
  main(main: (args: CliArgs<O>) => Promise<number | void> | number | void, argv?: string[]): void;
}

export function defineCli<const O extends Record<string, OptionSpec>>(spec: CliSpec<O>): Cli<O> {
  const usage = usageLine(spec);
  const help = helpText(spec, usage);

  const parse = (argv = process.argv.slice(2)): CliArgs<O> & { help: boolean } => {
    const beforeTerminator = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
    if (beforeTerminator.includes("--help") || beforeTerminator.includes("-h")) {
      return { values: {} as CliValues<O>, positionals: [], help: true };
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: spec.positionals !== undefined,
        options: Object.fromEntries(
          Object.entries(spec.options).map(([name, o]) => [
            name,
            { type: o.type, multiple: o.multiple === true, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
          ]),
        ),
      });
    } catch (error) {
      const e = error as Error & { code?: string };
      if (!e.code?.startsWith("ERR_PARSE_ARGS_")) throw error;
      throw new UsageError(parseArgsMistake(e));
    }
    const values: Record<string, unknown> = { ...parsed.values };
    for (const [name, option] of Object.entries(spec.options)) {
      const value = values[name];
      if (option.type === "boolean") values[name] = value === true;
      else if (option.multiple) values[name] = (value as string[] | undefined) ?? [];
      if (option.required && (value === undefined || value === "")) throw new UsageError(`--${name} is required`);
      const given = option.type === "string" ? ([value].flat().filter((v) => v !== undefined) as string[]) : [];
      for (const text of given) {
        if (option.choices && !option.choices.includes(text)) {
          throw new UsageError(`--${name} must be one of ${option.choices.join(", ")}, got "${text}"`);
        }
      }
    }
    return { values: values as CliValues<O>, positionals: parsed.positionals, help: false };
  };

  return {
    usage,
    main(main, argv) {
      const run = async () => {
        const args = parse(argv);
        if (args.help) {
          process.stdout.write(`${help}\n`);
          return 0;
        }
        return main(args);
      };
      run().then(
        (code) => {
          if (typeof code === "number") process.exit(code);
        },
        (error: unknown) => {
          if (error instanceof UsageError) {
            process.stderr.write(`${error.message}\n${usage}\n`);
            process.exit(EXIT_USAGE);
          }
          const e = error as Error & { code?: unknown };
          const code = typeof e?.code === "string" ? ` (${e.code})` : "";
          process.stderr.write(`${spec.command.replace(/ --$/, "")} failed${code}: ${e?.message ?? String(error)}\n`);
          process.exit(1);
        },
      );
    },
  };
}

/** parseArgs's errors, shortened to the option and the problem. */
function parseArgsMistake(error: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? error.message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /does not take an argument/.test(error.message) ? `option ${option} takes no value` : `option ${option} needs a value`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument "${/'([^']*)'/.exec(error.message)?.[1] ?? ""}": this command takes options only`;
    default:
      return error.message;
  }
}

function optionSynopsis(name: string, option: OptionSpec): string {
  const text = option.type === "boolean" ? `--${name}` : `--${name} ${option.value ?? "<value>"}`;
  const shown = option.multiple ? `${text} ...` : text;
  return option.required ? shown : `[${shown}]`;
}

function usageLine(spec: CliSpec<Record<string, OptionSpec>>): string {
  const parts = Object.entries(spec.options).map(([name, option]) => optionSynopsis(name, option));
  if (spec.positionals) parts.push(spec.positionals.value);
  return `usage: ${spec.command}${parts.length > 0 ? ` ${parts.join(" ")}` : ""}`.replace(/ --$/, "");
}

function helpText(spec: CliSpec<Record<string, OptionSpec>>, usage: string): string {
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const left = `  ${option.short ? `-${option.short}, ` : ""}--${name}${option.type === "string" ? ` ${option.value ?? "<value>"}` : ""}`;
    const extras = [
      option.required ? "required" : undefined,
      option.multiple ? "repeatable" : undefined,
      option.default !== undefined ? `default ${option.default}` : undefined,
    ].filter(Boolean);
    return [left, `${option.description}${extras.length > 0 ? ` (${extras.join(", ")})` : ""}`];
  });
  rows.push(["  -h, --help", "this help"]);
  if (spec.positionals) rows.unshift([`  ${spec.positionals.value}`, spec.positionals.description]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    usage,
    "",
    spec.summary,
    "",
    "options:",
    ...rows.map(([left, right]) => `${left.padEnd(width)}${right}`),
    ...(spec.notes && spec.notes.length > 0 ? ["", ...spec.notes] : []),
  ].join("\n");
}

/** A number option's value, or UsageError naming the option and the rule. */
export function numberOption(name: string, text: string, rule: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number {
  const n = text.trim() === "" ? Number.NaN : Number(text);
  const bounds = [
    rule.min !== undefined ? `>= ${rule.min}` : undefined,
    rule.above !== undefined ? `> ${rule.above}` : undefined,
    rule.max !== undefined ? `<= ${rule.max}` : undefined,
  ].filter(Boolean);
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.above === undefined || n > rule.above) &&
    (rule.max === undefined || n <= rule.max);
  if (!ok) throw new UsageError(`--${name} must be ${rule.integer ? "a whole number" : "a number"}${bounds.length > 0 ? ` ${bounds.join(" and ")}` : ""}, got "${text}"`);
  return n;
}

export function integerOption(name: string, text: string, rule: { min?: number; max?: number } = {}): number {
  return numberOption(name, text, { ...rule, integer: true });
}

/** An ISO 8601 instant, e.g. `--clock-start 2026-01-01T00:00:00Z`. */
export function instantOption(name: string, text: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(at.getTime())) throw new UsageError(`--${name} takes an ISO 8601 instant such as 2026-01-01T00:00:00Z, got "${text}"`);
  return at;
}

/** A comma-separated list of whole numbers, e.g. `--per-window 50,100,200`. */
export function integerListOption(name: string, text: string, rule: { min?: number } = {}): number[] {
  return text.split(",").map((part) => {
    try {
      return integerOption(name, part, rule);
    } catch {
      throw new UsageError(`--${name} takes whole numbers${rule.min !== undefined ? ` >= ${rule.min}` : ""} separated by commas, got "${text}"`);
    }
  });
}

/** Whether the module at `importMetaUrl` is the one node (tsx) was asked to run, not one a test imported. */
export function runsAsScript(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(importMetaUrl);
}
