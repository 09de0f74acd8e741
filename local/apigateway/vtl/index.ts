// API Gateway mapping templates (VTL): `$input`, `$util`, `$context`, `$stageVariables` as the
// "mapping template and access logging variable reference" documents them, parsed by velocityjs
// (MIT, a faithful Velocity parser) and rendered by its renderer adjusted to Velocity 1.7 (see
// ./engine) with handlers for the Java methods templates call on strings and maps.
// `$context.requestOverride` / `$context.responseOverride` set in a template come back in the result.
import { parse } from "velocityjs";
import { evaluatePath } from "./json-path";
import { JAVA_METHODS } from "./java-methods";
import { QUOTE_VARIABLE, rewriteDoubledQuotes } from "./doubled-quotes";
import { MappingTemplateError } from "./errors";
import { MappingTemplateRenderer, where, type Ast, type Node } from "./engine";
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

export interface CompiledTemplate {
  asts: ReturnType<typeof parse>;
}

const compiled = new Map<string, CompiledTemplate>();
const MAX_CACHED = 500;

/** Parses once per template text; a syntax error names the line, the column and what was expected. */
export function compileTemplate(template: string): CompiledTemplate {
  let entry = compiled.get(template);
  if (!entry) {
    const source = spellStop(rewriteDoubledQuotes(template));
    entry = { asts: parseOrThrow(source) };
    checkBlocks(source);
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
    output = new MappingTemplateRenderer(asts, { escape: false, customMethodHandlers: JAVA_METHODS }).render({
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

/** velocityjs knows `#stop` only as a call, `#stop()`. */
function spellStop(template: string): string {
  return template.replace(/(?<!\\)#(?:stop|\{stop\})(?![\w(])/g, "#stop()");
}

interface ParserError extends Error {
  hash?: { text?: string; loc?: { first_line: number; first_column: number }; expected?: string[] };
}

function parseOrThrow(source: string): ReturnType<typeof parse> {
  try {
    return parse(source);
  } catch (error) {
    const { message, hash } = error as ParserError;
    if (!hash?.loc) throw new MappingTemplateError(`invalid mapping template: ${message.split("\n")[0]}`);
    const line = source.split("\n")[hash.loc.first_line - 1] ?? "";
    const found = hash.text ? `unexpected ${JSON.stringify(hash.text)}` : "unexpected end of the construct";
    const expected = hash.expected?.length ? ` (expected ${hash.expected.slice(0, 8).join(", ")}${hash.expected.length > 8 ? ", ..." : ""})` : "";
    throw new MappingTemplateError(
      `invalid mapping template: line ${hash.loc.first_line}, column ${hash.loc.first_column + 1}: ${found}${expected} in ${JSON.stringify(line.trim())}`,
    );
  }
}

/**
 * velocityjs accepts a block that is never closed (rendering its body twice) and an `#end` that
 * closes nothing (dropping the rest of the template). A marker reference appended to the text
 * must come out once, as the last node of the top level; where it is found instead tells which.
 */
const END_MARKER = "vtlEndOfTemplate";

function checkBlocks(source: string): void {
  let asts: Node[];
  try {
    asts = parse(`${source}\n$${END_MARKER}`) as Node[];
  } catch {
    return; // the marker itself made a construct at the very end ambiguous: nothing to learn
  }
  const unclosed = innermostBlockHoldingMarker(asts);
  if (unclosed) throw new MappingTemplateError(`invalid mapping template: ${where(unclosed)}#${unclosed.type} is never closed with #end`);
  if (isMarker(asts[asts.length - 1])) return;
  throw new MappingTemplateError("invalid mapping template: an #end closes no #if, #foreach, #macro or #define");
}

const isMarker = (node: Node | undefined) => typeof node === "object" && !Array.isArray(node) && node.type === "references" && node.id === END_MARKER;

function innermostBlockHoldingMarker(nodes: Node[]): Ast | undefined {
  for (const node of nodes) {
    if (!Array.isArray(node)) continue;
    const inner = innermostBlockHoldingMarker(node);
    if (inner) return inner;
    if (node.some(isMarker)) return node[0] as Ast;
  }
  return undefined;
}
