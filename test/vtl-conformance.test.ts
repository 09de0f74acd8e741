// Mapping templates against AWS: every case renders a template as API Gateway would and checks
// the output AWS states or recorded, and names where that comes from. Sources:
//  - the API Gateway developer guide pages (URLs below): each example with a stated output;
//  - responses recorded on AWS by LocalStack's test suite (tests/aws/services/apigateway/*.py,
//    whose *.snapshot.json files hold what AWS answered), replayed here by rendering the same
//    templates on the same payloads;
//  - where neither says, the Java SE API (for Java methods) and Velocity 1.7's user guide.
// The pipeline around the templates (MOCK, Lambda proxy, overrides on the wire) is checked end to
// end in test/apigateway-conformance.test.ts.
import { describe, expect, it } from "vitest";
import { TemplateOverrides, renderTemplate, type TemplateInput } from "../local/apigateway/vtl";

const DOCS = "https://docs.aws.amazon.com/apigateway/latest/developerguide";
const SOURCES = {
  reference: `${DOCS}/api-gateway-mapping-template-reference.html (Variables for data transformations for API Gateway)`,
  examples: `${DOCS}/api-gateway-mapping-variable-examples.html (Examples using variables for mapping template transformations)`,
  overrides: `${DOCS}/apigateway-override-request-response-parameters.html (Override your API's request and response parameters and status codes)`,
  mappings: `${DOCS}/models-mappings.html (Mapping templates: the produce department example)`,
  photos: `${DOCS}/example-photos.html (Photos example: models and mapping templates)`,
  formatting: "recorded on AWS: LocalStack test_apigateway_common.py::test_input_path_template_formatting (snapshot of 2025-06-18)",
  bodyFormatting: "recorded on AWS: LocalStack test_apigateway_common.py::test_input_body_formatting (snapshot of 2025-03-19)",
  kinesis: "recorded on AWS: LocalStack test_apigateway_kinesis.py::test_apigateway_to_kinesis[PutRecords] (snapshot of 2024-11-20)",
  requestOverrides: "recorded on AWS: LocalStack test_apigateway_integrations.py::test_integration_mock_with_request_overrides_in_response_template (2024-11-06)",
  responseOverrides: "recorded on AWS: LocalStack test_apigateway_integrations.py::test_integration_mock_with_response_override_in_request_template (2025-05-16)",
  mapAssignment: "recorded on AWS: LocalStack test_apigateway_integrations.py::test_integration_mock_with_vtl_map_assignation (2025-05-29)",
  console: "AWS console findings reported with LocalStack PR #12774 (unit tests test_input_path_empty_body, test_input_path_not_json_body, test_apply_template_no_json_payload)",
  java: "Java SE 8 API: java.lang.String, java.util.List, java.util.Map, Map.Entry",
  velocity: "Apache Velocity 1.7 user guide (#if, #set, #foreach, ranges, arithmetic)",
} as const;
type Source = keyof typeof SOURCES;

type Area = "$input" | "$util" | "$context and $stageVariables" | "overrides" | "null and equality" | "lists and maps" | "Java methods" | "Velocity directives" | "documented examples";

interface Case {
  area: Area;
  name: string;
  source: Source;
  template: string;
  body?: string;
  params?: Partial<TemplateInput["params"]>;
  context?: Record<string, unknown>;
  stageVariables?: Record<string, string>;
  /** The exact text, or a check of the output (JSON compared by value where the page shows JSON). */
  expect: string | ((output: string, overrides: TemplateOverrides) => void);
}

function render(c: Pick<Case, "template" | "body" | "params" | "context" | "stageVariables">, overrides = new TemplateOverrides()): string {
  return renderTemplate(
    c.template,
    { body: c.body ?? "", params: { path: {}, querystring: {}, header: {}, ...c.params } },
    { context: c.context ?? {}, stageVariables: c.stageVariables ?? {}, overrides },
  );
}

const json = (value: unknown) => JSON.stringify(value);
const jsonEquals = (expected: unknown) => (output: string) => expect(JSON.parse(output)).toEqual(expected);
/** LocalStack's echo server answers with the request it got, its JSON body under "json". */
const echoed = (payload: unknown) => json({ json: payload, headers: { "Content-Type": "application/json" } });

/** The PetStore's answer to GET /pets/-1 in the override page's status tutorial. */
const PET_ERROR = { errors: [{ key: "GetPetRequest.petId", message: "The value is out of range." }] };
/** The request of the examples page's Examples 3 and 4. */
const BELLA = { params: { querystring: { name: "Bella", type: "dog" } }, body: '{\n    "Price" : "249.99",\n    "Age": "6"\n}' };

const PATH_RESULT = '#set($result = $input.path("$.json"))';
const NULL_PROBE = (path: string) =>
  `#set($result = $input.path("${path}")){"body": $result, "nested": $result.nested, "isNull": #if( $result == $null )"true"#else"false"#end, "isEmptyString": #if( $result == "" )"true"#else"false"#end}`;

const cases: Case[] = [
  // --- lists and maps from $input.path print as AWS prints them
  { area: "lists and maps", name: "a map prints Java-style", source: "formatting", template: `${PATH_RESULT}$result`, body: echoed({ foo: "bar" }), expect: "{foo=bar}" },
  { area: "lists and maps", name: "a list prints as JSON", source: "formatting", template: `${PATH_RESULT}$result`, body: echoed([{ foo: "bar" }]), expect: '[{"foo":"bar"}]' },
  { area: "lists and maps", name: "a nested map prints Java-style", source: "formatting", template: `${PATH_RESULT}$result.nested`, body: echoed({ nested: { foo: "bar" } }), expect: "{foo=bar}" },
  { area: "lists and maps", name: "a nested list prints as JSON", source: "formatting", template: `${PATH_RESULT}$result.nested`, body: echoed({ nested: [{ foo: "bar" }] }), expect: '[{"foo":"bar"}]' },
  { area: "lists and maps", name: "a map taken from a list prints Java-style", source: "formatting", template: `${PATH_RESULT}$result[0]`, body: echoed([{ foo: "bar" }]), expect: "{foo=bar}" },
  { area: "lists and maps", name: "a list taken from a list prints as JSON", source: "formatting", template: `${PATH_RESULT}$result[0]`, body: echoed([[{ foo: "bar" }]]), expect: '[{"foo":"bar"}]' },
  { area: "lists and maps", name: "a list inside a map prints as JSON within the map's text", source: "formatting", template: `${PATH_RESULT}$result`, body: echoed({ foo: [{ nested: "bar" }] }), expect: '{foo=[{"nested":"bar"}]}' },
  {
    area: "lists and maps",
    name: "a map's entries are separated by ', ' in their order",
    source: "formatting",
    template: `${PATH_RESULT}$result`,
    body: echoed({ bigger: "dict", to: "test", with: "separators" }),
    expect: "{bigger=dict, to=test, with=separators}",
  },
  { area: "lists and maps", name: "toString() of a map is its Java text", source: "formatting", template: `${PATH_RESULT}$result.toString()`, body: echoed({ foo: "bar" }), expect: "{foo=bar}" },
  { area: "lists and maps", name: "toString() of a map holding a list", source: "formatting", template: `${PATH_RESULT}$result.toString()`, body: echoed({ list: [{ foo: "bar" }] }), expect: '{list=[{"foo":"bar"}]}' },
  {
    area: "lists and maps",
    name: "the documented toString().contains(...) idiom finds a key of the map",
    source: "overrides",
    template: '#set($inputRoot = $input.path(\'$\'))#if($inputRoot.toString().contains("error"))yes#{else}no#end',
    body: json(PET_ERROR),
    expect: "yes",
  },

  // --- null, missing, and what compares equal
  { area: "null and equality", name: "a missing path renders as nothing, also its properties; it equals $null and ''", source: "formatting", template: NULL_PROBE("$.nonExisting"), body: echoed(null), expect: '{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}' },
  { area: "null and equality", name: "an empty list renders as [] and equals neither $null nor ''", source: "formatting", template: NULL_PROBE("$.json.listValue"), body: echoed({ listValue: [] }), expect: '{"body": [], "nested": , "isNull": "false", "isEmptyString": "false"}' },
  { area: "null and equality", name: "a JSON null behaves as a missing value", source: "formatting", template: NULL_PROBE("$.json.listValue"), body: echoed({ listValue: null }), expect: '{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}' },
  {
    area: "null and equality",
    name: "an undefined reference is not != '' (the else branch is taken)",
    source: "kinesis",
    template: "#if( $foo.bar.stuff != '')first#{else}second#end",
    expect: "second",
  },
  {
    area: "null and equality",
    name: "$context.identity.apiKey of a method without a key is null: it renders as nothing",
    source: "reference",
    template: '{"api_key" : "$context.identity.apiKey"}',
    context: { identity: { apiKey: null } },
    expect: '{"api_key" : ""}',
  },
  { area: "null and equality", name: "a stage variable the stage does not have renders as nothing", source: "formatting", template: "[$stageVariables.missing]", stageVariables: { other: "x" }, expect: "[]" },
  { area: "null and equality", name: "numbers compare by value whatever their type", source: "velocity", template: "#set($n = $input.path('$.n'))#if($n == 2.0)same#{else}different#end", body: json({ n: 2 }), expect: "same" },
  { area: "null and equality", name: "no JavaScript loose equality: 0 is not '', false is not ''", source: "velocity", template: "#set($z = 0)#set($f = false)#if($z == '')a#{else}b#end#if($f == '')a#{else}b#end", expect: "bb" },
  { area: "null and equality", name: "only null and false are false in #if: '' and 0 are true", source: "velocity", template: "#set($e = '')#set($z = 0)#if($e)T#{else}F#end#if($z)T#{else}F#end#if($missing)T#{else}F#end", expect: "TTF" },

  // --- $input
  { area: "$input", name: "$input.body of a request without a body is {}", source: "bodyFormatting", template: "#set($result = $input.body)$result", expect: "{}" },
  { area: "$input", name: "$input.body is the raw payload (JSON as it came)", source: "bodyFormatting", template: "#set($result = $input.body)$result", body: '{"some": "value"}', expect: '{"some": "value"}' },
  { area: "$input", name: "$input.body of a payload that is not JSON", source: "bodyFormatting", template: "#set($result = $input.body)$result", body: "some raw data", expect: "some raw data" },
  { area: "$input", name: "$input.body inside text, empty body", source: "bodyFormatting", template: "Action=SendMessage&MessageBody=$input.body", expect: "Action=SendMessage&MessageBody={}" },
  { area: "$input", name: "$input.body inside text, raw data", source: "bodyFormatting", template: "Action=SendMessage&MessageBody=$input.body", body: "some raw data", expect: "Action=SendMessage&MessageBody=some raw data" },
  { area: "$input", name: "a property of $input.body is nothing", source: "bodyFormatting", template: "#set($result = $input.body.testAccess)[$result]", body: '{"testAccess": "x"}', expect: "[]" },
  { area: "$input", name: "$input.path on an empty body is null", source: "console", template: '[$input.path("$.myVar")]', expect: "[]" },
  { area: "$input", name: "$input.path on a body that is not JSON is null", source: "console", template: '[$input.path("$.myVar")]', body: "not json", expect: "[]" },
  { area: "$input", name: "$input.json of a missing path is \"\"", source: "console", template: "$input.json('$.message')", body: "not json", expect: '""' },
  { area: "$input", name: "$input.json of a JSON string payload without the path is \"\"", source: "console", template: "$input.json('$.message')", body: '"#foobar123"', expect: '""' },
  { area: "$input", name: "escaping $input.json of a missing path", source: "console", template: "$util.escapeJavaScript($input.json('$.message'))", body: '"#foobar123"', expect: '\\"\\"' },
  { area: "$input", name: "$input.json('$.pets') is the JSON of the structure", source: "reference", template: "$input.json('$.pets')", body: json({ pets: [{ id: 1, type: "dog", price: 249.99 }] }), expect: '[{"id":1,"type":"dog","price":249.99}]' },
  {
    area: "$input",
    name: "$input.path('$.pets').size() counts the pets",
    source: "reference",
    template: "$input.path('$.pets').size()",
    body: json({ pets: [{ id: 1, type: "dog", price: 249.99 }, { id: 2, type: "cat", price: 124.99 }, { id: 3, type: "fish", price: 0.99 }] }),
    expect: "3",
  },
  {
    area: "$input",
    name: "$input.params(x) searches path, then query string, then header",
    source: "reference",
    template: "$input.params('id') $input.params('q') $input.params('h')",
    params: { path: { id: "p" }, querystring: { id: "q-id", q: "q" }, header: { id: "h-id", q: "h-q", h: "h" } },
    expect: "p q h",
  },

  // --- $util
  { area: "$util", name: "urlEncode of the empty body's {}", source: "bodyFormatting", template: "EncodedBody=$util.urlEncode($input.body)&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)", expect: "EncodedBody=%7B%7D&EncodedBodyAccess=" },
  { area: "$util", name: "urlEncode of a JSON body", source: "bodyFormatting", template: "EncodedBody=$util.urlEncode($input.body)", body: '{"some": "value"}', expect: "EncodedBody=%7B%22some%22%3A+%22value%22%7D" },
  { area: "$util", name: "urlEncode of raw data", source: "bodyFormatting", template: "EncodedBody=$util.urlEncode($input.body)", body: "some raw data", expect: "EncodedBody=some+raw+data" },
  {
    area: "$util",
    name: "parseJson gives an object to navigate (stated output)",
    source: "reference",
    template: `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
{
   "errorMessageObjKey2ArrVal" : $errorMessageObj.key2.arr[0]
}`,
    body: json({ errorMessage: json({ key1: "var1", key2: { arr: [1, 2, 3] } }) }),
    expect: `{
   "errorMessageObjKey2ArrVal" : 1
}`,
  },
  { area: "$util", name: "escapeJavaScript turns ' into \\'", source: "reference", template: "$util.escapeJavaScript($input.path('$.s'))", body: json({ s: "it's" }), expect: "it\\'s" },
  {
    area: "$util",
    name: "the documented .replaceAll(\"\\\\'\",\"'\") turns \\' back into ' for JSON",
    source: "reference",
    template: `$util.escapeJavaScript($input.path('$.s')).replaceAll("\\\\'","'")`,
    body: json({ s: `it's "quoted"` }),
    expect: `it's \\"quoted\\"`,
  },
  { area: "$util", name: "base64Encode and base64Decode (UTF-8)", source: "reference", template: '$util.base64Encode("héllo") $util.base64Decode("aMOpbGxv")', expect: "aMOpbGxv héllo" },
  { area: "$util", name: "urlDecode decodes application/x-www-form-urlencoded", source: "reference", template: '$util.urlDecode("a+b%26c")', expect: "a b&c" },

  // --- $context and $stageVariables
  {
    area: "$context and $stageVariables",
    name: "an authorizer's number and boolean context values are strings",
    source: "reference",
    template: "$context.authorizer.key|$context.authorizer.numKey|$context.authorizer.boolKey|#if($context.authorizer.numKey == '1')string#end",
    context: { authorizer: { key: "value", numKey: 1, boolKey: true } },
    expect: "value|1|true|string",
  },
  {
    area: "$context and $stageVariables",
    name: "the three spellings of a stage variable",
    source: "reference",
    template: "$stageVariables.table $stageVariables['table'] ${stageVariables['table']}",
    stageVariables: { table: "Comments" },
    expect: "Comments Comments Comments",
  },

  // --- overrides
  {
    area: "overrides",
    name: "a response override set when the body contains an error (the status tutorial)",
    source: "overrides",
    template: `#set($inputRoot = $input.path('$'))
$input.json("$")
#if($inputRoot.toString().contains("error"))
#set($context.responseOverride.status = 400)
#end`,
    body: json(PET_ERROR),
    expect: (output, overrides) => {
      expect(JSON.parse(output)).toEqual(PET_ERROR);
      expect(overrides.responseStatus()).toBe(400);
    },
  },
  {
    area: "overrides",
    name: "request header overrides: a concatenation, a replacement and a multi-value header (the header tutorial)",
    source: "overrides",
    template: `#set($header1Override = "foo")
#set($header3Value = "$input.params('header1')$input.params('header2')")
$input.json("$")
#set($context.requestOverride.header.header3 = $header3Value)
#set($context.requestOverride.header.header1 = $header1Override)
#set($context.requestOverride.header.multivalueheader=[$header1Override, $header3Value])`,
    body: "{}",
    params: { header: { header1: "header1Val", header2: "header2Val" } },
    expect: (_output, overrides) => expect(overrides.requestHeaders()).toEqual({ header3: "header1Valheader2Val", header1: "foo", multivalueheader: "foo,header1Valheader2Val" }),
  },
  // --- Java methods
  { area: "Java methods", name: "String: length, isEmpty, contains, substring, indexOf, trim, toUpperCase", source: "java", template: "#set($s = ' Hi there ')$s.length() $s.isEmpty() $s.contains('there') [$s.substring(1, 3)] $s.indexOf('t') [$s.trim()] $s.toUpperCase()", expect: "10 false true [Hi] 4 [Hi there]  HI THERE " },
  { area: "Java methods", name: "String.replace is literal; replaceAll takes a regex and $1", source: "java", template: "#set($s = 'a.b.c')$s.replace('.', '-') $s.replaceAll('([a-z])', '<$1>')", expect: "a-b-c <a>.<b>.<c>" },
  { area: "Java methods", name: "String.split takes a regex and drops trailing empty parts", source: "java", template: "#set($s = 'a,b,,c,,')#set($p = $s.split(','))$p.size() $p", expect: "4 [a, b, , c]" },
  { area: "Java methods", name: "String.matches matches the whole string; equals is exact; equalsIgnoreCase", source: "java", template: "#set($s = 'abc')$s.matches('b') $s.matches('a.c') $s.equals('ABC') $s.equalsIgnoreCase('ABC')", expect: "false true false true" },
  { area: "Java methods", name: "$string.empty is isEmpty()", source: "velocity", template: "#set($s = '')$s.empty", expect: "true" },
  {
    area: "Java methods",
    name: "Map: size, isEmpty, get, containsKey, keySet, values, entrySet",
    source: "java",
    template: "#set($m = $input.path('$'))$m.size() $m.isEmpty() $m.get('a') $m.containsKey('b') $m.containsKey('z') $m.keySet() $m.values() #foreach($e in $m.entrySet())$e.key=$e.value;#end",
    body: json({ a: 1, b: "two" }),
    expect: "2 false 1 true false [a, b] [1, two] a=1;b=two;",
  },
  { area: "Java methods", name: "Map.put returns the previous value (nothing when new)", source: "java", template: "#set($m = {})[$m.put('k', 'v')][$m.put('k', 'w')]$m", expect: "[][v]{k=w}" },
  { area: "Java methods", name: "List: size, isEmpty, get, contains, indexOf, subList", source: "java", template: "#set($l = $input.path('$.l'))$l.size() $l.isEmpty() $l.get(1) $l.contains('c') $l.indexOf('b') $l.subList(0, 2)", body: json({ l: ["a", "b", "c"] }), expect: "3 false b true 1 [a, b]" },
  { area: "Java methods", name: "List.add answers true; the list grows", source: "java", template: "#set($l = [])$l.add('x') $l.size()", expect: "true 1" },
  { area: "Java methods", name: "a whole number from JSON prints without a fraction, a decimal as Java prints a double", source: "java", template: "$input.path('$.i') $input.path('$.d') $input.path('$.w') $input.json('$.w')", body: '{"i": 7, "d": 2.5, "w": 2.0}', expect: "7 2.5 2.0 2.0" },
  { area: "Java methods", name: "a long id keeps every digit", source: "java", template: "$input.path('$.id') $input.json('$')", body: '{"id": 12345678901234567890}', expect: '12345678901234567890 {"id":12345678901234567890}' },

  // --- Velocity directives
  { area: "Velocity directives", name: "integer arithmetic stays whole: 7 / 2 is 3, 7 % 2 is 1", source: "velocity", template: "#set($a = 7)#set($q = $a / 2)#set($r = $a % 2)$q $r", expect: "3 1" },
  { area: "Velocity directives", name: "a range counts down as well as up", source: "velocity", template: "#foreach($i in [3..1])$i#end", expect: "321" },
  { area: "Velocity directives", name: "$velocityCount and $foreach.hasNext", source: "velocity", template: "#foreach($x in ['a', 'b'])$velocityCount$x#if($foreach.hasNext),#end#end", expect: "1a,2b" },
  { area: "Velocity directives", name: "#set of null leaves the variable as it was", source: "velocity", template: "#set($x = 'kept')#set($x = $input.path('$.none'))$x", body: "{}", expect: "kept" },
  {
    area: "Velocity directives",
    name: "a reference inside a double-quoted string is interpolated, with a range bound from a variable",
    source: "kinesis",
    template: `#set( $numRecords = $input.path('$.records').size() )#if($numRecords > 0)#set( $maxIndex = $numRecords - 1 )#foreach( $idx in [0..$maxIndex] )#set( $elem = $input.path("$.records[\${idx}]") )$elem.data;#end#end`,
    body: json({ records: [{ data: "a" }, { data: "b" }] }),
    expect: "a;b;",
  },

  // --- the documented examples with a stated output
  {
    area: "documented examples",
    name: "Example 1: $context variables into the payload (the page writes the output in JavaScript notation)",
    source: "examples",
    template: `{
    "stage" : "$context.stage",
    "request_id" : "$context.requestId",
    "api_id" : "$context.apiId",
    "resource_path" : "$context.resourcePath",
    "resource_id" : "$context.resourceId",
    "http_method" : "$context.httpMethod",
    "source_ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "account_id" : "$context.identity.accountId",
    "api_key" : "$context.identity.apiKey",
    "caller" : "$context.identity.caller",
    "user" : "$context.identity.user",
    "user_arn" : "$context.identity.userArn"
}`,
    context: {
      stage: "prod",
      requestId: "abcdefg-000-000-0000-abcdefg",
      apiId: "abcd1234",
      resourcePath: "/",
      resourceId: "efg567",
      httpMethod: "GET",
      identity: {
        sourceIp: "192.0.2.1",
        userAgent: "curl/7.84.0",
        accountId: "111122223333",
        apiKey: "MyTestKey",
        caller: "ABCD-0000-12345",
        user: "ABCD-0000-12345",
        userArn: "arn:aws:sts::111122223333:assumed-role/Admin/carlos-salazar",
      },
    },
    expect: jsonEquals({
      stage: "prod",
      request_id: "abcdefg-000-000-0000-abcdefg",
      api_id: "abcd1234",
      resource_path: "/",
      resource_id: "efg567",
      http_method: "GET",
      source_ip: "192.0.2.1",
      "user-agent": "curl/7.84.0",
      account_id: "111122223333",
      api_key: "MyTestKey",
      caller: "ABCD-0000-12345",
      user: "ABCD-0000-12345",
      user_arn: "arn:aws:sts::111122223333:assumed-role/Admin/carlos-salazar",
    }),
  },
  {
    area: "documented examples",
    name: "Example 2: every request parameter via a JSON payload",
    source: "examples",
    template: `#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}`,
    // The page names the path parameter `myparam` but shows `"example2":"myparamm"`: the output is taken as stated.
    params: { path: { example2: "myparamm" }, querystring: { querystring1: "value1,value2" }, header: { header1: "value1" } },
    expect: jsonEquals({ params: { path: { example2: "myparamm" }, querystring: { querystring1: "value1,value2" }, header: { header1: "value1" } } }),
  },
  {
    area: "documented examples",
    name: "Example 3: a query parameter and the whole body",
    source: "examples",
    template: `{
    "name" : "$input.params('name')",
    "body" : $input.json('$')
}`,
    ...BELLA,
    expect: jsonEquals({ name: "Bella", body: { Price: "249.99", Age: "6" } }),
  },
  {
    area: "documented examples",
    name: "Example 3, escaped: the body as one string (shown unquoted on the page)",
    source: "examples",
    template: `{
    "name" : "$input.params('name')",
    "body" : "$util.escapeJavaScript($input.json('$'))"
}`,
    ...BELLA,
    expect: jsonEquals({ name: "Bella", body: '{"Price":"249.99","Age":"6"}' }),
  },
  {
    area: "documented examples",
    name: "Example 4: a JSONPath picks one field",
    source: "examples",
    template: `{
    "name" : "$input.params('name')",
    "body" : $input.json('$.Age')
}`,
    ...BELLA,
    expect: jsonEquals({ name: "Bella", body: "6" }),
  },
  {
    area: "documented examples",
    name: "Example 4, escaped",
    source: "examples",
    template: `{
    "name" : "$input.params('name')",
    "body" : "$util.escapeJavaScript($input.json('$.Age'))"
}`,
    ...BELLA,
    expect: jsonEquals({ name: "Bella", body: '"6"' }),
  },
  {
    area: "documented examples",
    name: "Example 5: $input.params, $input.path(...).size() and $input.json",
    source: "examples",
    template: `{
    "id" : "$input.params('id')",
    "count" : "$input.path('$.things').size()",
    "things" : $input.json('$.things')
}`,
    params: { path: { id: "123" } },
    body: json({ things: { "1": {}, "2": {}, "3": {} } }),
    expect: (output) => expect(output.replace(/\s+/g, "")).toBe('{"id":"123","count":"3","things":{"1":{},"2":{},"3":{}}}'),
  },
  {
    area: "documented examples",
    name: "Example 5, escaped",
    source: "examples",
    template: `{
     "id" : "$input.params('id')",
     "count" : "$input.path('$.things').size()",
     "things" : "$util.escapeJavaScript($input.json('$.things'))"
}`,
    params: { path: { id: "123" } },
    body: json({ things: { "1": {}, "2": {}, "3": {} } }),
    expect: (output) => expect(output.replace(/\s+/g, "")).toBe('{"id":"123","count":"3","things":"{\\"1\\":{},\\"2\\":{},\\"3\\":{}}"}'),
  },
  {
    area: "documented examples",
    name: "the produce department: bins become choices",
    source: "mappings",
    template: `#set($inputRoot = $input.path('$'))
{
  "choices": [
#foreach($elem in $inputRoot.bins)
    {
      "kind": "$elem.type",
      "suggestedPrice": "$elem.price per $elem.unit",
      "available": $elem.quantity
    }#if($foreach.hasNext),#end

#end
  ]
}`,
    body: json({
      department: "produce",
      categories: ["fruit", "vegetables"],
      bins: [
        { category: "fruit", type: "apples", price: 1.99, unit: "pound", quantity: 232 },
        { category: "fruit", type: "bananas", price: 0.19, unit: "each", quantity: 112 },
        { category: "vegetables", type: "carrots", price: 1.29, unit: "bag", quantity: 57 },
      ],
    }),
    expect: jsonEquals({
      choices: [
        { kind: "apples", suggestedPrice: "1.99 per pound", available: 232 },
        { kind: "bananas", suggestedPrice: "0.19 per each", available: 112 },
        { kind: "carrots", suggestedPrice: "1.29 per bag", available: 57 },
      ],
    }),
  },
  {
    area: "documented examples",
    name: "photos: the output mapping template gives the transformed data",
    source: "photos",
    template: `#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "owner": "$elem.owner",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end

#end
  ]
}`,
    body: json({
      photos: {
        page: 1,
        pages: "1234",
        perpage: 100,
        total: "123398",
        photo: [
          { id: "12345678901", owner: "23456789@A12", secret: "abc123d456", server: "1234", farm: 1, title: "Sample photo 1", ispublic: 1, isfriend: 0, isfamily: 0 },
          { id: "23456789012", owner: "34567890@B23", secret: "bcd234e567", server: "2345", farm: 2, title: "Sample photo 2", ispublic: 1, isfriend: 0, isfamily: 0 },
        ],
      },
    }),
    expect: jsonEquals({
      photos: [
        { id: "12345678901", owner: "23456789@A12", title: "Sample photo 1", ispublic: 1, isfriend: 0, isfamily: 0 },
        { id: "23456789012", owner: "34567890@B23", title: "Sample photo 2", ispublic: 1, isfriend: 0, isfamily: 0 },
      ],
    }),
  },
];

/** Recorded request -> echo -> response chains: the request template's output is the response's payload. */
const chains: { area: Area; name: string; source: Source; request: string; response: string; body: string; expect: string }[] = [
  { area: "$input", name: "an attribute of $input.body sends nothing; the echo's $input.body is then {}", source: "bodyFormatting", request: "#set($result = $input.body.testAccess)$result", response: "#set($result = $input.body)$result", body: '{"some": "value"}', expect: "{}" },
  { area: "$input", name: "$input.body inside text in both templates, empty body", source: "bodyFormatting", request: "Action=SendMessage&MessageBody=$input.body", response: "Action=SendMessage&MessageBody=$input.body", body: "", expect: "Action=SendMessage&MessageBody=Action=SendMessage&MessageBody={}" },
  {
    area: "$input",
    name: "$input.body inside text in both templates, JSON body",
    source: "bodyFormatting",
    request: "Action=SendMessage&MessageBody=$input.body",
    response: "Action=SendMessage&MessageBody=$input.body",
    body: '{"some": "value"}',
    expect: 'Action=SendMessage&MessageBody=Action=SendMessage&MessageBody={"some": "value"}',
  },
];

function renderChain(chain: (typeof chains)[number]): string {
  const overrides = new TemplateOverrides();
  const sent = render({ template: chain.request, body: chain.body }, overrides);
  return render({ template: chain.response, body: sent }, overrides);
}

/** The MOCK override recordings: a request template, then a response template on the same request. */
const REQUEST_OVERRIDE_RESPONSE = `
#set($body = $util.parseJson($context.requestOverride.path.body))
#set($inputBody = $body.message)
#if($inputBody == "path1")
{
   "response": "path was path one"
}
#elseif($inputBody == "path2")
{
   "response": "path was path two"
}
#else
{
  "response": "this is the else clause"
}
#end
`;

describe("mapping templates as AWS renders them", () => {
  const areas = [...new Set([...cases, ...chains].map((c) => c.area))];
  for (const area of areas) {
    describe(area, () => {
      for (const c of cases.filter((x) => x.area === area)) {
        it(`${c.name} [${c.source}]`, () => {
          const overrides = new TemplateOverrides();
          const output = render(c, overrides);
          if (typeof c.expect === "string") expect(output).toBe(c.expect);
          else c.expect(output, overrides);
        });
      }
      for (const c of chains.filter((x) => x.area === area)) {
        it(`${c.name} [${c.source}]`, () => expect(renderChain(c)).toBe(c.expect));
      }
    });
  }

  describe("overrides across a request's templates", () => {
    it.each([
      ["path1", "path was path one"],
      ["path2", "path was path two"],
      ["whatever", "this is the else clause"],
    ])("a request override set in the request template is read by the response template: %s [requestOverrides]", (message, answer) => {
      const overrides = new TemplateOverrides();
      const request = `#set($body = $util.base64Decode($input.params('testPath')))
#set($context.requestOverride.path.body = $body)
{
  "statusCode": 200
}`;
      const testPath = Buffer.from(json({ message })).toString("base64");
      render({ template: request, params: { path: { testPath } } }, overrides);
      expect(JSON.parse(render({ template: REQUEST_OVERRIDE_RESPONSE }, overrides))).toEqual({ response: answer });
    });

    it("a response override set in the request template is visible in the response template and applies [responseOverrides]", () => {
      const overrides = new TemplateOverrides();
      render(
        {
          template: `#set($context.responseOverride.status = 444)
#set($context.responseOverride.header.foo = "bar")
#set($context.responseOverride.custom = "is also passed around")
{
  "statusCode": 200
}`,
        },
        overrides,
      );
      const output = render(
        {
          template: `#set($statusOverride = $context.responseOverride.status)
#set($fooHeader = $context.responseOverride.header.foo)
#set($custom = $context.responseOverride.custom)
{
    "statusOverride": "$statusOverride",
    "fooHeader": "$fooHeader",
    "custom": "$custom"
}`,
        },
        overrides,
      );
      expect(JSON.parse(output)).toEqual({ custom: "is also passed around", fooHeader: "bar", statusOverride: "444" });
      expect(overrides.responseStatus()).toBe(444);
      expect(overrides.responseHeaders()).toEqual({ foo: "bar" });
    });

    it("request overrides assigned by index, by put() and through $context[...] [mapAssignment]", () => {
      const overrides = new TemplateOverrides();
      render(
        {
          template: `#set($paramName = "foo")
#set($context.requestOverride.querystring[$paramName] = "bar")
#set($paramPutName = "putfoo")
$context.requestOverride.querystring.put($paramPutName, "putBar")
#set($context["requestOverride"].querystring["nestedfoo"] = "nestedFoo")
{
  "statusCode": 200
}`,
        },
        overrides,
      );
      const output = render(
        {
          template: `#set($value = $context.requestOverride.querystring["foo"])
#set($value2 = $context.requestOverride.querystring["putfoo"])
#set($value3 = $context.requestOverride.querystring["nestedfoo"])
{
    "value": "$value",
    "value2": "$value2",
    "value3": "$value3"
}`,
        },
        overrides,
      );
      expect(JSON.parse(output)).toEqual({ value: "bar", value2: "putBar", value3: "nestedFoo" });
    });

    it('an override applied twice in one template fails it ("Overrides are final") [overrides]', () => {
      expect(() => render({ template: "#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 404)" })).toThrow(
        /\$context\.responseOverride\.status is overridden twice in one template/,
      );
    });
  });

  describe("the clickstream seed's Kinesis template on a recorded payload", () => {
    it("PutRecords: Data is each record's data in base64, PartitionKey the else branch's length [kinesis]", () => {
      const template = `{
    "StreamName": "stream",
    "Records": [
        #set( $numRecords = $input.path('$.records').size() )
        #if($numRecords > 0)
            #set( $maxIndex = $numRecords - 1 )
            #foreach( $idx in [0..$maxIndex] )
                #set( $elem = $input.path("$.records[\${idx}]") )
                #set( $elemJsonB64 = $util.base64Encode($elem.data) )
                {
                    "Data": "$elemJsonB64",
                    "PartitionKey": #if( $foo.bar.stuff != '')"$elem.partitionKey"#else"$elemJsonB64.length()"#end
                }#if($foreach.hasNext),#end
            #end
        #end
    ]
}`;
      const records = [{ data: '{"foo": "bar1"}' }, { data: '{"foo": "bar2"}' }, { data: '{"foo": "bar3"}' }];
      const put = JSON.parse(render({ template, body: json({ records }) }));
      // What the stream received, as recorded: the data back, and PartitionKey "20".
      expect(put.Records.map((r: { Data: string; PartitionKey: string }) => [Buffer.from(r.Data, "base64").toString(), r.PartitionKey])).toEqual(records.map((r) => [r.data, "20"]));
    });
  });

  it("every case names a source this suite knows", () => {
    for (const c of [...cases, ...chains]) expect(SOURCES[c.source], c.name).toBeDefined();
  });
});
