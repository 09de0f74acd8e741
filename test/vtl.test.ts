// The mapping template engine on its own: $input, $util, $context, Velocity semantics as API
// Gateway has them, errors, and the templates this platform ships. The conformance suite against
// AWS's documentation and recorded responses is test/vtl-conformance.test.ts.
import { describe, expect, it } from "vitest";
import { MappingTemplateError, TemplateOverrides, compileTemplate, renderTemplate, type TemplateInput } from "../local/apigateway/vtl";
import { beaconTemplate } from "../modules/clickstream";
import { PICKUP_FAILED, PICKUP_RESPONSE, PROCESS_SAML_REQUEST, USERS_RESPONSE, pickupRequest } from "../modules/saml-federation/templates";
import { GATEWAY_RESPONSE_TEMPLATE } from "../modules/rest-api/formats";

const context = {
  requestId: "req-1",
  httpMethod: "GET",
  stage: "prod",
  identity: { sourceIp: "192.0.2.1", userAgent: "curl/7.84.0" },
  authorizer: { principalId: "user-hash-1", claims: { email: "ada@example.com" } },
};

function render(template: string, input: Partial<TemplateInput> = {}, stageVariables: Record<string, string> = {}, overrides = new TemplateOverrides()) {
  const output = renderTemplate(
    template,
    { body: input.body ?? "", params: input.params ?? { path: {}, querystring: {}, header: {} } },
    { context, stageVariables, overrides },
  );
  return { output, overrides };
}
const out = (template: string, input: Partial<TemplateInput> = {}) => render(template, input).output;
const json = (body: unknown) => ({ body: JSON.stringify(body) });

function renderError(template: string, input: Partial<TemplateInput> = {}): MappingTemplateError {
  try {
    render(template, input);
  } catch (error) {
    expect(error).toBeInstanceOf(MappingTemplateError);
    return error as MappingTemplateError;
  }
  throw new Error(`expected ${JSON.stringify(template)} to fail`);
}

describe("$input", () => {
  const body = { pets: [{ id: 1, type: "dog", price: 249.99 }, { id: 2, type: "cat", price: 124.5 }], name: "Ada", n: 5, nothing: null };

  it("$input.body is the raw payload", () => {
    expect(out('{"Data": "$util.base64Encode($input.body)"}', { body: "a,b" })).toBe(`{"Data": "${Buffer.from("a,b").toString("base64")}"}`);
  });

  it("$input.json returns JSON text of the selected value", () => {
    expect(out("$input.json('$')", json(body))).toBe(JSON.stringify(body));
    expect(out("$input.json('$.name')", json(body))).toBe('"Ada"');
    expect(out("$input.json('$.pets[0]')", json(body))).toBe('{"id":1,"type":"dog","price":249.99}');
    expect(out("$input.json(\"$['name']\")", json(body))).toBe('"Ada"');
    expect(out("$input.json('$.pets[1].price')", json(body))).toBe("124.5");
    expect(out("$input.json('$.n')", json(body))).toBe("5");
  });

  it("$input.path returns a value usable in #foreach, .size() and property access", () => {
    const template = `#set($pets = $input.path('$.pets'))$pets.size():#foreach($p in $pets)$p.id=$p.type#if($foreach.hasNext),#end#end;$input.path('$.pets[1].type')`;
    expect(out(template, json(body))).toBe("2:1=dog,2=cat;cat");
    expect(out("$input.path('$.n')", json(body))).toBe("5");
    expect(out("$input.path('$').name.length()", json(body))).toBe("3");
  });

  // API Gateway renders a missing or null value as nothing, quiet reference or not (recorded on
  // AWS: LocalStack test_input_path_template_formatting, "empty-body" and "nested-null-list");
  // standard Velocity would print the reference's own text.
  it("a missing or null path renders as nothing", () => {
    expect(out("[$!input.path('$.missing')][$input.path('$.nothing')]", json(body))).toBe("[][]");
    expect(out("#set($x = $input.path('$.nothing'))[$x]", json(body))).toBe("[]");
  });

  it("$input.params() maps path, querystring and header; $input.params(name) searches them in that order", () => {
    const params = { path: { id: "p1" }, querystring: { id: "q1", sort: "asc" }, header: { id: "h1", "X-Trace": "t-9" } };
    expect(out("$input.params('id') $input.params('sort') $input.params('X-Trace') [$input.params('none')]", { params })).toBe("p1 asc t-9 []");
    const all = `#set($all = $input.params())#foreach($type in $all.keySet())$type:#set($p = $all.get($type))#foreach($k in $p.keySet())$k=$p.get($k)#if($foreach.hasNext),#end#end#if($foreach.hasNext);#end#end`;
    expect(out(all, { params })).toBe("path:id=p1;querystring:id=q1,sort=asc;header:id=h1,X-Trace=t-9");
    expect(out("$input.params().querystring.sort $input.params().header.get('X-Trace')", { params })).toBe("asc t-9");
  });

  it("the AWS docs example: every parameter of the request in the payload", () => {
    const template = `{
  "body" : $input.json('$'),
  "headers": {
    #foreach($param in $input.params().header.keySet())
    "$param": "$util.escapeJavaScript($input.params().header.get($param))"#if($foreach.hasNext),#end
    #end
  }
}`;
    const params = { path: {}, querystring: {}, header: { Accept: "*/*", "User-Agent": 'say "hi"' } };
    const rendered = out(template, { body: '{"a":1}', params });
    expect(JSON.parse(rendered)).toEqual({ body: { a: 1 }, headers: { Accept: "*/*", "User-Agent": 'say "hi"' } });
  });

  // The mapping template reference points at Jayway JsonPath, which reads a path without `$` as
  // `$.` + path (PathCompiler.compile).
  it("a path without $ starts at the root, as Jayway JsonPath reads it", () => {
    expect(out("$input.json('pets[1].type')", json(body))).toBe('"cat"');
  });

  it("a bad JSONPath is a MappingTemplateError naming the path", () => {
    expect(renderError("$input.path('$.pets[x]')", json(body)).message).toMatch(/JSONPath "\$\.pets\[x\]" at 6: \[x\]: expected a quoted name/);
    expect(renderError("$input.path('$.pets[?(@.price > 100)]')", json(body)).message).toMatch(/not emulated by the local cloud/);
  });
});

describe("$util", () => {
  it("escapeJavaScript escapes quotes, backslash and control characters, single quote as \\'", () => {
    expect(out(`$util.escapeJavaScript($input.path('$.s'))`, json({ s: `He said "it's"\\\n\tok` }))).toBe(`He said \\"it\\'s\\"\\\\\\n\\tok`);
    // commons-lang's escapeJavaScript, which API Gateway runs, also escapes "/" and non-ASCII.
    expect(out(`$util.escapeJavaScript("a/b é")`)).toBe("a\\/b \\u00E9");
  });

  it("parseJson gives an object; the AWS docs example", () => {
    const errorMessage = JSON.stringify({ key1: "var1", key2: { arr: [1, 2, 3] } });
    const template = `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
   "errorMessageObjKey2ArrVal" : $errorMessageObj.key2.arr[0]
}`;
    expect(out(template, json({ errorMessage }))).toBe(`{
   "errorMessageObjKey2ArrVal" : 1
}`);
  });

  it("parseJson of text that is not JSON is a MappingTemplateError", () => {
    expect(renderError("#set($o = $util.parseJson($input.body))$o", { body: "{not json" }).message).toMatch(/\$util\.parseJson: not JSON/);
  });

  it("base64 and URL encoding round-trip", () => {
    expect(out(`$util.base64Encode("héllo")|$util.base64Decode("aMOpbGxv")`)).toBe("aMOpbGxv|héllo");
    expect(out(`$util.urlEncode("a b&c=d/é")|$util.urlDecode("a+b%26c%3Dd%2F%C3%A9")`)).toBe("a+b%26c%3Dd%2F%C3%A9|a b&c=d/é");
    expect(renderError(`$util.urlDecode("%E0%A4%A")`).message).toMatch(/urlDecode/);
  });
});

describe("$context and $stageVariables", () => {
  it("reads nested context and stage variables; a stage variable the stage does not have is nothing", () => {
    expect(out("$context.identity.sourceIp $context.authorizer.principalId $context.authorizer.claims.email [$stageVariables.table]")).toBe(
      "192.0.2.1 user-hash-1 ada@example.com []",
    );
    expect(render("${stageVariables.table}", {}, { table: "Comments" }).output).toBe("Comments");
  });

  it("request and response overrides land in the request's overrides", () => {
    const { output, overrides } = render(`#set($context.requestOverride.header.X-Trace = "t-1")
#set($context.requestOverride.querystring.page = "2")
#set($context.requestOverride.path.id = $input.params('id'))
#set($context.responseOverride.status = 400)
#set($context.responseOverride.header.Retry-After = 30)
done`, { params: { path: { id: "p9" }, querystring: {}, header: {} } });
    expect(output).toBe("done");
    expect(overrides.requestHeaders()).toEqual({ "X-Trace": "t-1" });
    expect(String(overrides.request.get("querystring"))).toBe("{page=2}");
    expect(String(overrides.request.get("path"))).toBe("{id=p9}");
    expect(overrides.responseStatus()).toBe(400);
    expect(overrides.responseHeaders()).toEqual({ "Retry-After": "30" });
  });

  it("no override leaves the status unset", () => {
    expect(render("x").overrides.responseStatus()).toBeUndefined();
  });

  it("an override status that is not an HTTP status is an error", () => {
    const { overrides } = render("#set($context.responseOverride.status = 'teapot')");
    expect(() => overrides.responseStatus()).toThrow(/responseOverride\.status must be an HTTP status code, got teapot/);
  });
});

describe("Velocity 1.7 semantics", () => {
  // Recorded on AWS (LocalStack test_input_path_template_formatting): `$result.nested` of a null
  // $result renders as nothing. Standard Velocity prints an undefined reference's own text.
  it("undefined references render as nothing, quiet or not", () => {
    expect(out("[$foo][${foo}][$!foo][$!{foo}][$context.nope][$foo.bar.baz()]")).toBe("[][][][][][]");
  });

  it("#if: only null and false are false; empty string and 0 are true", () => {
    expect(out(`#set($e = "")#if($e)T#{else}F#end #if($missing)T#{else}F#end #set($z = 0)#if($z)T#{else}F#end #if(!$e)T#{else}F#end #if($e && $z)T#{else}F#end #if($missing || $e)T#{else}F#end`)).toBe(
      "T F T F T T",
    );
    expect(out(`#if($input.path('$.f'))T#{else}F#end`, json({ f: false }))).toBe("F");
    expect(out(`#set($n = 2)#if($n > 3)a#elseif($n == 2)b#{else}c#end`)).toBe("b");
  });

  it("Java String, Map and List methods", () => {
    const body = { s: "Hello World", m: { a: 1, b: 2 }, l: ["x", "y"] };
    const template = [
      "$s.split(' ').size() $s.length() $s.toLowerCase() $s.toUpperCase() $s.replaceAll('o', '0') $s.substring(0, 5) $s.contains('World') $s.equals('Hello World') $s.isEmpty() $s.indexOf('W') $s.trim()",
      "$m.size() $m.get('a') $m.keySet() $m.containsKey('b') $m.containsKey('c') $m.isEmpty() $m",
      "$l.size() $l.get(1) $l.contains('x') $l.isEmpty() $l",
    ].join("\n");
    const setup = "#set($s = $input.path('$.s'))#set($m = $input.path('$.m'))#set($l = $input.path('$.l'))";
    expect(out(setup + template, json(body))).toBe(
      // A JSON list prints as JSON, a map as Java's {k=v} (recorded: test_input_path_template_formatting).
      ["2 11 hello world HELLO WORLD Hell0 W0rld Hello true true false 6 Hello World", "2 1 [a, b] true false false {a=1, b=2}", '2 y true false ["x","y"]'].join("\n"),
    );
  });

  it("$foreach.hasNext, $velocityHasNext, $foreach.count and $velocityCount", () => {
    expect(out("#foreach($i in [1..3])$foreach.count/$velocityCount$i#if($velocityHasNext),#end#end")).toBe("1/11,2/22,3/33");
  });

  it("#foreach over a map iterates its values and scopes its variables", () => {
    expect(out("#set($m = {'a': 1, 'b': 2})#foreach($v in $m)$v#if($foreach.hasNext),#end#end after:[$v]")).toBe("1,2 after:[]");
  });

  it("#break leaves the loop at once; #stop ends the template", () => {
    expect(out("#foreach($v in [1, 2, 3])$v#if($v == 2)#break#end-#end|#foreach($v in [4, 5])$v#end")).toBe("1-2|45");
    expect(out("a#stop b")).toBe("a");
  });

  it("numbers from JSON keep integer rendering", () => {
    expect(out("$input.path('$.n') $input.path('$.f') #set($sum = $input.path('$.n') + 1)$sum", json({ n: 5, f: 2.5 }))).toBe("5 2.5 6");
  });

  // Velocity 1.7 (directive.set.null.allowed = false): "RHS of #set statement is null. Context
  // will not be modified."
  it("#set to null leaves the variable as it was", () => {
    expect(out("#set($x = 1)#set($x = $input.path('$.missing'))$x [#set($y = $nope)$y]", json({}))).toBe("1 []");
    const template = "#foreach($item in $input.path('$.items'))#set($name = $item.name)$name;#end";
    expect(out(template, json({ items: [{ name: "a" }, {}, { name: "c" }] }))).toBe("a;a;c;");
  });

  it("a null value renders as nothing", () => {
    expect(out("#set($o = $input.path('$'))[$o.a][$!o.a]", json({ a: null }))).toBe("[][]");
  });
});

describe("errors", () => {
  it("a syntax error names the line, the column and the construct", () => {
    const error = (() => {
      try {
        compileTemplate("{\n#set($b = )\n}");
      } catch (e) {
        return e as MappingTemplateError;
      }
    })();
    expect(error).toBeInstanceOf(MappingTemplateError);
    expect(error!.code).toBe("MAPPING_TEMPLATE_ERROR");
    expect(error!.message).toMatch(/line 2, column \d+: unexpected "\)".*#set\(\$b = \)/);
  });

  it("an unclosed block and a stray #end are syntax errors", () => {
    expect(() => compileTemplate("a\n  #foreach($x in $l)$x")).toThrow(/line 2, column 3: #foreach is never closed with #end/);
    expect(() => compileTemplate("#if($a)#if($b)x#end")).toThrow(/line 1, column 1: #if is never closed/);
    expect(() => compileTemplate("a #end b")).toThrow(/#end closes no/);
  });

  it("compiles a template once", () => {
    expect(compileTemplate("$a #if($b)x#end")).toBe(compileTemplate("$a #if($b)x#end"));
  });

  it("runaway loops and recursion end in a MappingTemplateError, not a hang or a crash", () => {
    expect(renderError("#foreach($i in [1..100000000])$i#end").message).toMatch(/range/);
    expect(renderError("#foreach($i in [1..10000])#foreach($j in [1..10000])#end#end").message).toMatch(/iterations/);
    expect(renderError("#macro(loop)#loop()#end#loop()")).toBeInstanceOf(MappingTemplateError);
    expect(renderError("$input.path('$.s').replaceAll('(', 'x')", json({ s: "a" }))).toBeInstanceOf(MappingTemplateError);
  });
});

describe("templates of this platform and its seeds", () => {
  it("Comments API PutItem request (seed)", () => {
    const template = `{
"TableName": "Comments",
"Item": {
"commentId": { "S": "$context.requestId" },
"pageId": { "S": "$input.path('$.pageId')" },
"userName": { "S": "$input.path('$.userName')" },
"message": { "S": "$input.path('$.message')" }
}
}`;
    const body = { pageId: "breaking-news-story-01-18-2016", userName: "Just Saying Thank You", message: "I really enjoyed this story!!" };
    expect(JSON.parse(out(template, json(body)))).toEqual({
      TableName: "Comments",
      Item: { commentId: { S: "req-1" }, pageId: { S: body.pageId }, userName: { S: body.userName }, message: { S: body.message } },
    });
  });

  it("Comments API Query request and response (seed)", () => {
    const request = `{
"TableName": "Comments",
"IndexName": "pageId-index",
"KeyConditionExpression": "pageId = :v1",
"ExpressionAttributeValues": { ":v1": { "S": "$input.params('pageId')" } }
}`;
    const params = { path: { pageId: "page-1" }, querystring: {}, header: {} };
    expect(JSON.parse(out(request, { params })).ExpressionAttributeValues[":v1"].S).toBe("page-1");

    const response = `#set($inputRoot = $input.path('$'))
{
"comments": [
#foreach($elem in $inputRoot.Items) {
"commentId": "$elem.commentId.S",
"userName": "$elem.userName.S",
"message": "$elem.message.S"
}#if($foreach.hasNext),#end
#end
]
}`;
    const items = [
      { commentId: { S: "c1" }, pageId: { S: "page-1" }, userName: { S: "ada" }, message: { S: "first" } },
      { commentId: { S: "c2" }, pageId: { S: "page-1" }, userName: { S: "bob" }, message: { S: "second" } },
    ];
    expect(JSON.parse(out(response, json({ Count: 2, Items: items, ScannedCount: 2 })))).toEqual({
      comments: [
        { commentId: "c1", userName: "ada", message: "first" },
        { commentId: "c2", userName: "bob", message: "second" },
      ],
    });
    expect(JSON.parse(out(response, json({ Count: 0, Items: [] })))).toEqual({ comments: [] });
  });

  it("clickstream beacon -> Kinesis PutRecord (module, from the seed, with doubled quotes; keyed by request id)", () => {
    const params = { path: {}, querystring: { browseraction: "click" }, header: { Host: "shop.example.com" } };
    const record = JSON.parse(out(beaconTemplate("clickstream-input"), { params }));
    expect(record).toEqual({
      Data: Buffer.from('{ "browseraction" : "click", "site" : "shop.example.com" }').toString("base64"),
      PartitionKey: "req-1",
      StreamName: "clickstream-input",
    });
  });

  it("mapping improvements post: raw body to Kinesis and the Lambda error template", () => {
    expect(JSON.parse(out('{\n  "Data" : "$util.base64Encode($input.body)",\n  "PartitionKey" : "key",\n  "StreamName" : "Stream"\n}', { body: "<xml/>" }))).toEqual({
      Data: Buffer.from("<xml/>").toString("base64"),
      PartitionKey: "key",
      StreamName: "Stream",
    });
    const myErrorObj = { errorType: "InternalFailure", errorCode: 9130, detailedMessage: "This is my error message", stackTrace: ["foo1", "foo2", "foo3"], data: { numbers: [1, 2, 3] } };
    const template = `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
#set ($bodyObj = $util.parseJson($input.body))

{
"type" : "$errorMessageObj.errorType",
"code" : $errorMessageObj.errorCode,
"message" : "$errorMessageObj.detailedMessage",
"someData" : "$errorMessageObj.data.numbers[2]"
}`;
    expect(out(template, json({ errorMessage: JSON.stringify(myErrorObj) }))).toBe(`
{
"type" : "InternalFailure",
"code" : 9130,
"message" : "This is my error message",
"someData" : "3"
}`);
  });

  it("SAML: POST /saml, DeleteItem keyed by the authorizer's principalId, the pickup responses", () => {
    const saml = JSON.parse(out(PROCESS_SAML_REQUEST, { body: "SAMLResponse=abc%2B&RelayState=r" }));
    expect(saml).toEqual({
      body: Buffer.from("SAMLResponse=abc%2B&RelayState=r").toString("base64"),
      sourceIp: "192.0.2.1",
      userAgent: Buffer.from("curl/7.84.0").toString("base64"),
      requestId: "req-1",
    });
    expect(JSON.parse(out(pickupRequest("SAMLSessions")))).toEqual({ TableName: "SAMLSessions", Key: { identityhash: { S: "user-hash-1" } }, ReturnValues: "ALL_OLD" });

    const attributes = { AccessKeyId: { S: "AKIA1" }, SecretAccessKey: { S: "s3cr3t" }, SessionToken: { S: "tok" }, Expiration: { S: "2026-01-01T00:00:00Z" } };
    const found = render(PICKUP_RESPONSE, json({ Attributes: attributes }));
    expect(JSON.parse(found.output)).toEqual({ AccessKeyId: "AKIA1", SecretAccessKey: "s3cr3t", SessionToken: "tok", Expiration: "2026-01-01T00:00:00Z" });
    expect(found.overrides.responseStatus()).toBeUndefined();
    const gone = render(PICKUP_RESPONSE, json({}));
    expect(gone.overrides.responseStatus()).toBe(404);
    expect(JSON.parse(gone.output).message).toMatch(/No credentials are waiting/);
    expect(JSON.parse(out(PICKUP_FAILED))).toEqual({
      message: "Sign-in is unavailable: the credential store did not answer. No credentials were handed out; sign in again later.",
      requestId: "req-1",
    });
  });

  it("GET /users MOCK response with ${context.identity.userAgent} (as API Gateway receives it from Terraform)", () => {
    const received = USERS_RESPONSE.replace("$${", "${");
    expect(JSON.parse(out(received))).toEqual({ status: "Success", agent: "curl/7.84.0" });
  });

  it("gateway response template of the REST API module", () => {
    const rendered = renderTemplate(GATEWAY_RESPONSE_TEMPLATE, { body: "", params: { path: {}, querystring: {}, header: {} } }, {
      context: { ...context, error: { messageString: '"Unauthorized"', responseType: "UNAUTHORIZED" } },
      stageVariables: {},
      overrides: new TemplateOverrides(),
    });
    expect(JSON.parse(rendered)).toEqual({ message: "Unauthorized", type: "UNAUTHORIZED", requestId: "req-1" });
  });
});
