// API Gateway mapping templates (VTL): `$input`, `$util`, `$context`, `$stageVariables` as the
// "mapping template and access logging variable reference" documents them, parsed by velocityjs
// (MIT, a faithful Velocity parser) and rendered by ./engine with API Gateway's semantics.
// `$context.requestOverride` / `$context.responseOverride` are the request's TemplateOverrides,
// shared by its request and response templates.
import { parse } from "velocityjs";
import { QUOTE_VARIABLE, rewriteDoubledQuotes } from "./doubled-quotes";
import { Renderer, UNSUPPORTED_DIRECTIVES, where, type Ast, type Macro, type Node } from "./engine";
import { MappingTemplateError } from "./errors";
import { JsonSyntaxError, parseJson } from "./json";
import { evaluatePath, jsonPathProblem } from "./json-path";
import { TemplateOverrides } from "./overrides";
import { UtilVariable } from "./util";
import { HostObject, JavaMap, NO_SUCH_METHOD, fromHost, jsonText, javaString } from "./values";

export { MappingTemplateError, TemplateOverrides };

export interface TemplateInput {
  /** The payload the template maps: the method request's body, or the integration's response. */
  body: string;
  params: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> };
}

export interface TemplateVariables {
  context: Record<string, unknown>;
  stageVariables: Record<string, string>;
  overrides: TemplateOverrides;
}

interface CompiledTemplate {
  nodes: Node[];
  macros: Map<string, Macro>;
}

const compiled = new Map<string, CompiledTemplate>();
const MAX_CACHED = 500;

/** Parses once per template text; a syntax error names the line, the column and what was expected. */
export function compileTemplate(template: string): CompiledTemplate {
  let entry = compiled.get(template);
  if (!entry) {
    const source = spellStop(rewriteDoubledQuotes(template));
    const nodes = parseOrThrow(source) as Node[];
    checkBlocks(source);
    entry = { nodes, macros: collectMacros(nodes) };
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(template, entry);
  }
  return entry;
}

/**
 * Why the local cloud cannot render this template as API Gateway would, or undefined when it
 * can: what the deployer refuses before anything is served.
 */
export function templateProblem(template: string): string | undefined {
  let entry: CompiledTemplate;
  try {
    entry = compileTemplate(template);
  } catch (error) {
    return (error as Error).message;
  }
  return nodesProblem(entry.nodes, entry.macros);
}

function nodesProblem(nodes: Node[], macros: Map<string, Macro>): string | undefined {
  for (const node of nodes) {
    if (typeof node === "string") continue;
    const problem = Array.isArray(node) ? nodesProblem(node, macros) : astProblem(node, macros);
    if (problem) return problem;
  }
  return undefined;
}

function astProblem(ast: Ast, macros: Map<string, Macro>): string | undefined {
  if (ast.type === "macro_call") {
    if (UNSUPPORTED_DIRECTIVES.has(ast.id!)) return `${where(ast)}#${ast.id} is not emulated by the local cloud (a mapping template has no other templates to read)`;
    if (ast.id !== "stop" && !macros.has(ast.id!)) return `${where(ast)}#${ast.id} is neither a Velocity directive nor a macro of this template`;
  }
  if (ast.type === "references") {
    if (ast.args) return `${where(ast)}$${ast.id}(...) calls a method on nothing`;
    // A JSONPath written into the template is checked now, not when a request first uses it.
    if (ast.id === "input") {
      for (const step of ast.path ?? []) {
        const [arg] = step.type === "method" && (step.id === "path" || step.id === "json") && step.args ? step.args : [];
        const text = String(arg?.value);
        if (arg?.type === "string" && !(arg.isEval && /\$!?\{?[a-zA-Z]/.test(text))) {
          const problem = jsonPathProblem(text);
          if (problem) return `${where(ast)}$input.${step.id}: ${problem}`;
        }
      }
    }
  }
  for (const child of [ast.condition, ast.from, ...(ast.expression ?? []), ...(ast.equal ?? []), ...(ast.path ?? []), ...(ast.args || [])]) {
    const problem = child && typeof child === "object" ? astProblem(child, macros) : undefined;
    if (problem) return problem;
  }
  return undefined;
}

export function renderTemplate(template: string, input: TemplateInput, variables: TemplateVariables): string {
  // Text without references or directives (a MOCK's `{"statusCode": 200}`) is its own rendering.
  if (!template.includes("$") && !template.includes("#")) return template;
  const { nodes, macros } = compileTemplate(template);
  const globals = new Map<string, unknown>([
    ["input", new InputVariable(input)],
    ["util", new UtilVariable()],
    [QUOTE_VARIABLE, '"'],
  ]);
  // The request's environment becomes template values only for a template that can name it.
  if (template.includes("context")) globals.set("context", contextMap(variables));
  if (template.includes("stageVariables")) globals.set("stageVariables", fromHost(variables.stageVariables));
  variables.overrides.beginTemplate();
  try {
    return new Renderer(globals, macros, parseStringLiteral).render(nodes);
  } catch (error) {
    if (error instanceof MappingTemplateError) throw error;
    throw new MappingTemplateError(`mapping template failed: ${(error as Error).message}`);
  }
}

function contextMap(variables: TemplateVariables): JavaMap {
  const context = fromHost(variables.context) as JavaMap;
  // "calling $context.authorizer.numKey returns the "1" string" (mapping template reference).
  const authorizer = context.get("authorizer");
  if (authorizer instanceof JavaMap) for (const [key, value] of authorizer) if (typeof value !== "string" && !(value instanceof JavaMap)) authorizer.set(key, javaString(value));
  context.set("requestOverride", variables.overrides.request);
  context.set("responseOverride", variables.overrides.response);
  return context;
}

const NO_DOCUMENT = Symbol("no JSON document");

/** `$input`: the payload and the request's parameters. */
class InputVariable extends HostObject {
  private document?: unknown;
  private allParams?: JavaMap;

  constructor(private readonly input: TemplateInput) {
    super();
  }

  property(name: string): unknown {
    // Recorded on AWS: `$input.body` of a request without a body is `{}` (LocalStack
    // test_input_body_formatting).
    return name === "body" ? (this.input.body === "" ? "{}" : this.input.body) : undefined;
  }

  call(name: string, args: unknown[]): unknown {
    switch (name) {
      case "path": {
        const found = this.at(args[0]);
        return found === NO_DOCUMENT ? null : (found ?? null);
      }
      case "json": {
        // Nothing there (or no JSON payload at all) is `""`, as LocalStack found in the AWS console.
        const found = this.at(args[0]);
        return found === NO_DOCUMENT || found === undefined ? '""' : jsonText(found);
      }
      case "params":
        return args.length === 0 ? this.params() : this.param(args[0] === null ? "null" : javaString(args[0]));
      default:
        return NO_SUCH_METHOD;
    }
  }

  /** The value at a JSONPath; undefined when a definite path finds nothing. */
  private at(path: unknown): unknown {
    if (this.document === undefined) {
      try {
        this.document = this.input.body.trim() === "" ? NO_DOCUMENT : parseJson(this.input.body);
      } catch (error) {
        if (!(error instanceof JsonSyntaxError)) throw error;
        this.document = NO_DOCUMENT;
      }
    }
    return this.document === NO_DOCUMENT ? NO_DOCUMENT : evaluatePath(this.document, path);
  }

  private params(): JavaMap {
    const { path, querystring, header } = this.input.params;
    this.allParams ??= new JavaMap([
      ["path", fromHost(path)],
      ["querystring", fromHost(querystring)],
      ["header", fromHost(header)],
    ]);
    return this.allParams;
  }

  /** Path, then query string, then header (by name in any case); "" when none has it. */
  private param(name: string): string {
    const { path, querystring, header } = this.input.params;
    if (Object.hasOwn(path, name)) return path[name];
    if (Object.hasOwn(querystring, name)) return querystring[name];
    const lower = name.toLowerCase();
    const found = Object.keys(header).find((h) => h.toLowerCase() === lower);
    return found === undefined ? "" : header[found];
  }
}

const strings = new Map<string, Node[]>();

function parseStringLiteral(text: string): Node[] {
  let nodes = strings.get(text);
  if (!nodes) {
    nodes = parseOrThrow(text) as Node[];
    if (strings.size >= MAX_CACHED) strings.delete(strings.keys().next().value!);
    strings.set(text, nodes);
  }
  return nodes;
}

function collectMacros(nodes: Node[], into = new Map<string, Macro>()): Map<string, Macro> {
  for (const node of nodes) {
    if (!Array.isArray(node)) continue;
    const head = node[0] as Ast;
    if (typeof head === "object" && !Array.isArray(head) && head.type === "macro") {
      const params = ((head.args || []) as Ast[]).map((arg) => arg.id!);
      into.set(head.id!, { params, body: node.slice(1) });
    }
    collectMacros(node, into);
  }
  return into;
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
  let nodes: Node[];
  try {
    nodes = parse(`${source}\n$${END_MARKER}`) as Node[];
  } catch {
    return; // the marker itself made a construct at the very end ambiguous: nothing to learn
  }
  const unclosed = innermostBlockHoldingMarker(nodes);
  if (unclosed) throw new MappingTemplateError(`invalid mapping template: ${where(unclosed)}#${unclosed.type} is never closed with #end`);
  if (isMarker(nodes[nodes.length - 1])) return;
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
