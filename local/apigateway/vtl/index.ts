// API Gateway mapping templates (VTL): `$input`, `$util`, `$context`, `$stageVariables` as the
// "mapping template and access logging variable reference" documents them, rendered by velocityjs
// (MIT, a faithful Velocity parser) with handlers for the Java methods templates call on strings
// and maps. `$context.requestOverride` / `$context.responseOverride` set in a template come back
// in the result.
import { Compile, parse } from "velocityjs";
import { evaluatePath } from "./json-path";
import { JAVA_METHODS } from "./java-methods";
import { QUOTE_VARIABLE, rewriteDoubledQuotes } from "./doubled-quotes";
import { MappingTemplateError } from "./errors";
import { createUtil } from "./util";

export { MappingTemplateError };

export interface TemplateInput {
  body: string;
  params: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> };
}

export interface TemplateVariables {
  context: Record<string, unknown>;
  stageVariables: Record<string, string>;
}

export interface RenderResult {
  output: string;
  requestOverride: { header: Record<string, string>; querystring: Record<string, string>; path: Record<string, string> };
  responseOverride: { status?: number; header: Record<string, string> };
}

type Ast = ReturnType<typeof parse>;
export interface CompiledTemplate {
  asts: Ast;
}

const compiled = new Map<string, CompiledTemplate>();
const MAX_CACHED = 500;

/** Parses once per template text; a syntax error names the line and what was expected. */
export function compileTemplate(template: string): CompiledTemplate {
  let entry = compiled.get(template);
  if (!entry) {
    try {
      entry = { asts: parse(rewriteDoubledQuotes(template)) };
    } catch (error) {
      throw new MappingTemplateError(`invalid mapping template: ${firstLines((error as Error).message)}`);
    }
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(template, entry);
  }
  return entry;
}

export function renderTemplate(template: string, input: TemplateInput, variables: TemplateVariables): RenderResult {
  const { asts } = compileTemplate(template);
  const requestOverride = { header: {}, querystring: {}, path: {} };
  const responseOverride: { status?: unknown; header: Record<string, string> } = { header: {} };
  const context = { ...variables.context, requestOverride, responseOverride };
  let output: string;
  try {
    output = new Compile(asts, { escape: false, customMethodHandlers: JAVA_METHODS }).render({
      input: createInput(input),
      util: createUtil(),
      context,
      stageVariables: variables.stageVariables,
      [QUOTE_VARIABLE]: '"',
    });
  } catch (error) {
    if (error instanceof MappingTemplateError) throw error;
    throw new MappingTemplateError(`mapping template failed: ${(error as Error).message}`);
  }
  const status = responseOverride.status === undefined ? undefined : Number(responseOverride.status);
  if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) {
    throw new MappingTemplateError(`$context.responseOverride.status must be an HTTP status code, got ${String(responseOverride.status)}`);
  }
  return { output, requestOverride, responseOverride: { status, header: stringValues(responseOverride.header) } };
}

/** `$input`: the payload and the request's parameters. */
function createInput(input: TemplateInput) {
  let parsed: { ok: true; value: unknown } | { ok: false } | undefined;
  const payload = () => {
    if (!parsed) {
      if (input.body.trim() === "") parsed = { ok: true, value: {} };
      else {
        try {
          parsed = { ok: true, value: JSON.parse(input.body) };
        } catch {
          parsed = { ok: false };
        }
      }
    }
    // A payload that is not JSON is one string (a form body, text): `$` is that string.
    return parsed.ok ? parsed.value : input.body;
  };
  const header = (name: string) => {
    const found = Object.keys(input.params.header).find((h) => h.toLowerCase() === name.toLowerCase());
    return found === undefined ? undefined : input.params.header[found];
  };
  return {
    body: input.body,
    json: (path: string) => {
      const value = evaluatePath(payload(), path);
      return value === undefined ? "" : JSON.stringify(value);
    },
    // Missing (or JSON null) is Java's null: `#set` keeps the variable unset, as Velocity 1.7 does.
    path: (path: string) => evaluatePath(payload(), path) ?? undefined,
    params: (name?: string) => {
      if (name === undefined) return input.params;
      return input.params.path[name] ?? input.params.querystring[name] ?? header(name) ?? "";
    },
  };
}

function stringValues(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, String(v)]));
}

function firstLines(message: string): string {
  return message.split("\n").slice(0, 3).join(" | ");
}
