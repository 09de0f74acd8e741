// The local cloud's deployer: Terraform expressions as `terraform apply` evaluates them, and
// stacks applied in reference order, with count / for_each, validations and remote state.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployStack, type DeployedStack } from "../local/deployer/deploy";
import { configReferences, evaluateConfig, type Scope } from "../local/deployer/expressions/evaluate";
import { DeployError, type ResourceContext } from "../local/deployer/types";

const scope = (roots: Record<string, unknown> = {}): Scope => ({
  root(name) {
    if (name in roots) return roots[name];
    throw new Error(`no ${name}`);
  },
});

describe("expressions", () => {
  it.each<[string, unknown, Record<string, unknown>?]>([
    ["plain text", "plain text"],
    ["${1 + 2 * 3}", 7],
    ["${(1 + 2) * 3}", 9],
    ["n=${1 + 1}", "n=2"],
    ["${true && !false}", true],
    ["${\"a\" == \"a\" ? \"yes\" : \"no\"}", "yes"],
    ["$${literal}", "${literal}"],
    ["${local.x.list[1]}", "b", { local: { x: { list: ["a", "b"] } } }],
    ["${local.x.list.0}", "a", { local: { x: { list: ["a", "b"] } } }],
    ["${local.m[\"k-1\"]}", "v", { local: { m: { "k-1": "v" } } }],
    ["${jsonencode({b = 1, \"a\" = [true, null]})}", '{"a":[true,null],"b":1}'],
    ['${jsonencode({"Resource" = ["${local.arn}:*"]})}', '{"Resource":["arn:x:*"]}', { local: { arn: "arn:x" } }],
    // Terraform 1.11's own answers (terraform console): Go's encoding/json escapes, byte order in sets.
    ['${jsonencode({a = "<b>&\u2028"})}', '{"a":"\\u003cb\\u003e\\u0026\\u2028"}'],
    ['${join(",", toset(["b", "B", "a", "_"]))}', "B,_,a,b"],
    ["${join(\", \", keys({z = 1, a = 2}))}", "a, z"],
    ["${lookup({a = 1}, \"b\", 0)}", 0],
    ["${contains([\"dev\", \"prod\"], \"prod\")}", true],
    ["${tolist(local.s)[0].name}", "first", { local: { s: [{ name: "first" }] } }],
    ["${local.xs[*].id}", ["1", "2"], { local: { xs: [{ id: "1" }, { id: "2" }] } }],
    ["${[for k, v in {a = 1, b = 2} : \"${k}${v}\" if v > 1]}", ["b2"]],
    ["${{for x in [\"a\", \"b\"] : x => upper(x)}}", { a: "A", b: "B" }],
    ["${sha256(\"abc\")}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["${base64encode(\"hi\")}", "aGk="],
    ["${format(\"%s-%03d\", \"x\", 7)}", "x-007"],
    ["${try(local.missing, \"fallback\")}", "fallback", { local: {} }],
    ["${terraform.workspace}", "dev", { terraform: { workspace: "dev" } }],
    ['${can(regex("^[A-Z_]{1,8}$", "DEMO_KEY"))}', true],
    ['${can(regex("^[A-Z_]{1,8}$", "demo key"))}', false],
    ['${regex("([0-9]+)-([0-9]+)", "v 10-20")}', ["10", "20"]],
    ['${regexall("[a-z]+", "ab 12 cd")}', ["ab", "cd"]],
  ])("%s", (text, expected, roots) => {
    expect(evaluateConfig(text, scope(roots))).toEqual(expected);
  });

  it("a template with one interpolation keeps the value's type; with text it is a string", () => {
    expect(evaluateConfig("${local.n}", scope({ local: { n: 3 } }))).toBe(3);
    expect(evaluateConfig("n${local.n}", scope({ local: { n: 3 } }))).toBe("n3");
  });

  it("names what is missing", () => {
    expect(() => evaluateConfig("${local.env[\"qa\"]}", scope({ local: { env: { dev: 1 } } }))).toThrow(/"qa" does not identify an element \(keys: dev\)/);
    expect(() => evaluateConfig("${nosuch(1)}", scope())).toThrow(/unknown function "nosuch"/);
    expect(() => evaluateConfig("${local.x.y}", scope({ local: { x: null } }))).toThrow(/null value/);
    expect(() => evaluateConfig("${1 +}", scope())).toThrow(/EXPRESSION|unexpected/);
  });

  it("finds the references a configuration makes, as deploy order needs them", () => {
    const refs = configReferences({
      a: "${aws_iam_role.r.arn}",
      b: ["${data.terraform_remote_state.s.outputs.x}", "${local.env[terraform.workspace]}"],
      c: '${jsonencode({"R" = "${aws_sns_topic.t.arn}"})}',
    });
    expect([...refs].sort()).toEqual(["aws_iam_role.r", "aws_sns_topic.t", "data.terraform_remote_state.s", "local.env"]);
  });
});

function stackDir(json: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "deployer-"));
  writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(json));
  return dir;
}

interface Created {
  address: string;
  config: Record<string, unknown>;
}

function deploy(json: unknown, workspace = "dev", deployed = new Map<string, DeployedStack>(), extra: Record<string, (ctx: ResourceContext) => Record<string, unknown>> = {}) {
  const created: Created[] = [];
  const record = (ctx: ResourceContext) => {
    created.push({ address: ctx.address, config: ctx.config });
    return { id: `id-${ctx.address}`, arn: `arn:${ctx.address}` };
  };
  const promise = deployStack(
    { name: "test-stack", dir: stackDir(json), dependencies: [] },
    {
      workspace,
      defaultAccountId: "000000000000",
      servicesFor: () => ({}),
      resourceHandlers: { aws_thing: record, aws_other: record, ...extra },
      dataHandlers: {},
    },
    deployed,
  );
  return { promise, created };
}

const PROVIDER = { provider: { aws: [{ region: "us-west-2", allowed_account_ids: ["111111111111"] }] } };

describe("deployer", () => {
  it("creates resources after what they reference, with references resolved", async () => {
    const { promise, created } = deploy({
      ...PROVIDER,
      resource: {
        aws_other: { b: { name: "${aws_thing.a.arn}-b" } },
        aws_thing: { a: { name: "a" } },
      },
      output: { b_name: { value: "${aws_other.b.name}" } },
    });
    const stack = await promise;
    expect(created.map((c) => c.address)).toEqual(["aws_thing.a", "aws_other.b"]);
    expect(created[1].config.name).toBe("arn:aws_thing.a-b");
    expect(stack.outputs).toEqual({ b_name: "arn:aws_thing.a-b" });
    expect(stack).toMatchObject({ region: "us-west-2", accountId: "111111111111" });
  });

  it("honours depends_on", async () => {
    const { promise, created } = deploy({
      ...PROVIDER,
      resource: { aws_thing: { a: { name: "a", depends_on: ["aws_other.z"] } }, aws_other: { z: { name: "z" } } },
    });
    await promise;
    expect(created.map((c) => c.address)).toEqual(["aws_other.z", "aws_thing.a"]);
  });

  it("expands count and for_each, with count.index and each.key/value", async () => {
    const { promise, created } = deploy({
      ...PROVIDER,
      locals: { emails: ["a@example.com", "b@example.com"] },
      resource: {
        aws_thing: { counted: { count: 2, name: "n-${count.index}" } },
        aws_other: { each: { for_each: "${toset(local.emails)}", endpoint: "${each.value}", key: "${each.key}" } },
      },
      output: { first: { value: "${aws_thing.counted[1].name}" }, byKey: { value: '${aws_other.each["b@example.com"].endpoint}' } },
    });
    const stack = await promise;
    expect(created.map((c) => c.address)).toEqual([
      'aws_other.each["a@example.com"]',
      'aws_other.each["b@example.com"]',
      "aws_thing.counted[0]",
      "aws_thing.counted[1]",
    ]);
    expect(stack.outputs).toEqual({ first: "n-1", byKey: "b@example.com" });
  });

  it("a count of 0 (a feature switched off) creates nothing", async () => {
    const { promise, created } = deploy({ ...PROVIDER, resource: { aws_thing: { legacy: { count: "${false ? 1 : 0}", name: "x" } } } });
    await promise;
    expect(created).toHaveLength(0);
  });

  it("refuses an unknown workspace with the variable validation's message, before creating anything", async () => {
    const json = {
      ...PROVIDER,
      variable: {
        workspace_check: {
          type: "bool",
          default: true,
          validation: [
            {
              condition: "${var.workspace_check && contains(keys(local.environments), terraform.workspace)}",
              error_message: 'Terraform workspace "${terraform.workspace}" is not an environment.',
            },
          ],
        },
      },
      locals: { environments: { dev: { name: "d" } }, environment: "${var.workspace_check ? local.environments[terraform.workspace] : null}" },
      resource: { aws_thing: { a: { name: "${local.environment.name}" } } },
    };
    const bad = deploy(json, "qa");
    await expect(bad.promise).rejects.toMatchObject({ code: "VARIABLE_INVALID", message: expect.stringContaining('Terraform workspace "qa" is not an environment.') });
    expect(bad.created).toHaveLength(0);
    const good = deploy(json, "dev");
    await good.promise;
    expect(good.created[0].config.name).toBe("d");
  });

  it("lists every resource type it cannot emulate, and creates nothing", async () => {
    const { promise, created } = deploy({
      ...PROVIDER,
      resource: { aws_thing: { a: { name: "a" } }, aws_unknown_one: { x: {} }, aws_unknown_two: { y: {} } },
      data: { aws_caller_identity: { me: {} } },
    });
    await expect(promise).rejects.toThrow(/cannot emulate these resource types.*aws_unknown_one, aws_unknown_two, data\.aws_caller_identity/);
    expect(created).toHaveLength(0);
  });

  it("does not ask for a type whose only resources have a count of 0 in this workspace", async () => {
    const switchedOff = { count: "${local.features.legacy ? 1 : 0}" };
    const off = deploy({ ...PROVIDER, locals: { features: { legacy: false } }, resource: { aws_thing: { a: { name: "a" } }, aws_legacy_app: { l: switchedOff } } });
    await off.promise;
    expect(off.created.map((c) => c.address)).toEqual(["aws_thing.a"]);
    const on = deploy({ ...PROVIDER, locals: { features: { legacy: true } }, resource: { aws_thing: { a: { name: "a" } }, aws_legacy_app: { l: switchedOff } } });
    await expect(on.promise).rejects.toThrow(/cannot emulate these resource types.*aws_legacy_app/);
    expect(on.created).toHaveLength(0);
  });

  it("reads another stack's outputs through terraform_remote_state, by the stack's state key", async () => {
    const deployed = new Map<string, DeployedStack>([
      ["platform-us-east-1", { name: "platform-us-east-1", region: "us-east-1", accountId: "1", outputs: { host: "h.example" }, resources: new Map() }],
    ]);
    const { promise, created } = deploy(
      {
        ...PROVIDER,
        data: { terraform_remote_state: { east: { backend: "s3", config: { key: "platform/platform-us-east-1.tfstate" }, workspace: "${terraform.workspace}" } } },
        resource: { aws_thing: { a: { fqdn: "${data.terraform_remote_state.east.outputs.host}" } } },
      },
      "dev",
      deployed,
    );
    await promise;
    expect(created[0].config.fqdn).toBe("h.example");
  });

  it("refuses a reference to something not declared", async () => {
    const { promise } = deploy({ ...PROVIDER, resource: { aws_thing: { a: { name: "${aws_other.missing.id}" } } } });
    await expect(promise).rejects.toBeInstanceOf(DeployError);
    await expect(promise).rejects.toThrow(/refers to aws_other.missing, which is not declared/);
  });

  it("refuses a dependency cycle, naming it", async () => {
    const { promise } = deploy({ ...PROVIDER, resource: { aws_thing: { a: { n: "${aws_other.b.id}" } }, aws_other: { b: { n: "${aws_thing.a.id}" } } } });
    await expect(promise).rejects.toThrow(/dependency cycle: .*aws_other\.b.*aws_thing\.a/);
  });
});
