// `$context.requestOverride` and `$context.responseOverride` of one request ("Use a mapping
// template to override an API's request and response parameters and status codes"). The request
// template's and the response template's renderings share them: a value the request template
// sets is visible in the response template, and a response override set in the request template
// applies to the response (recorded on AWS: LocalStack
// test_integration_mock_with_request_overrides_in_response_template and
// test_integration_mock_with_response_override_in_request_template).
// "Overrides are final. An override may only be applied to each parameter once. Trying to
// override the same parameter multiple times will result in 5XX responses": a second assignment
// in one template fails it.
import { MappingTemplateError } from "./errors";
import { JavaMap, javaString } from "./values";

class OverrideMap extends JavaMap {
  private readonly written = new Map<string, number>();

  constructor(
    private readonly owner: TemplateOverrides,
    private readonly name: string,
  ) {
    super();
  }

  set(key: string, value: unknown): this {
    if (this.written.get(key) === this.owner.template) {
      throw new MappingTemplateError(`${this.name}.${key} is overridden twice in one template: API Gateway applies each override once and answers 5XX to a second`);
    }
    this.written.set(key, this.owner.template);
    return super.set(key, value);
  }
}

export class TemplateOverrides {
  /** Which rendering is under way: the finality of an override holds within one template. */
  template = 0;
  readonly request: JavaMap;
  readonly response: JavaMap;

  constructor() {
    this.request = new OverrideMap(this, "$context.requestOverride");
    for (const part of ["header", "querystring", "path"]) this.request.set(part, new OverrideMap(this, `$context.requestOverride.${part}`));
    this.response = new OverrideMap(this, "$context.responseOverride");
    this.response.set("header", new OverrideMap(this, "$context.responseOverride.header"));
  }

  beginTemplate(): void {
    this.template++;
  }

  /** Headers the integration request gets instead of its mapped ones; a list joins with ",". */
  requestHeaders(): Record<string, string> {
    return headerValues(this.request.get("header"));
  }

  responseHeaders(): Record<string, string> {
    return headerValues(this.response.get("header"));
  }

  /** The method response's status instead of the integration response's, if a template set one. */
  responseStatus(): number | undefined {
    const value = this.response.get("status");
    if (value === null || value === undefined) return undefined;
    const status = Number(javaString(value));
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new MappingTemplateError(`$context.responseOverride.status must be an HTTP status code, got ${javaString(value)}`);
    }
    return status;
  }
}

function headerValues(headers: unknown): Record<string, string> {
  if (!(headers instanceof JavaMap)) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (value === null || value === undefined) continue;
    // `#set($context.requestOverride.header.multivalueheader = [$a, $b])` sends `a,b` (the tutorial's log).
    out[name] = Array.isArray(value) ? value.map(javaString).join(",") : javaString(value);
  }
  return out;
}
