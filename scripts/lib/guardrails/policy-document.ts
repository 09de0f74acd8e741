// IAM policies as they appear in synthesized Terraform: plain JSON, or the HCL object CDKTF
// writes for a policy with references, `${jsonencode({"Effect" = "Allow", "Resource" = [aws_x.y.arn]})}`.
// References become strings holding the reference, which is all a policy check needs.

export interface PolicyStatementView {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export class PolicyParseError extends Error {
  readonly code = "POLICY_UNPARSEABLE";
}

const JSONENCODE = /^\$\{jsonencode\(([\s\S]*)\)\}$/;

export function parsePolicy(text: string): { Statement: PolicyStatementView | PolicyStatementView[] } {
  const hcl = JSONENCODE.exec(text.trim());
  try {
    return JSON.parse(hcl ? hclObjectToJson(hcl[1]) : text);
  } catch (error) {
    throw new PolicyParseError(`policy is neither JSON nor a jsonencode() object: ${(error as Error).message}: ${text.slice(0, 120)}`);
  }
}

export function statementsOf(text: string): PolicyStatementView[] {
  const statement = parsePolicy(text).Statement;
  return Array.isArray(statement) ? statement : [statement];
}

export const listOf = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** HCL object/tuple syntax (as CDKTF emits it) to JSON: `=` to `:`, bare references quoted. */
function hclObjectToJson(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '"') {
      const end = endOfString(source, i);
      out += source.slice(i, end);
      i = end;
    } else if (c === "=") {
      out += ":";
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const token = /^[A-Za-z_][\w.\-]*(?:\[\d+\][\w.\-]*)*/.exec(source.slice(i))![0];
      out += token === "true" || token === "false" || token === "null" ? token : JSON.stringify(`\${${token}}`);
      i += token.length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the closing quote of the string starting at `start`; `${...}` may hold quotes. */
function endOfString(source: string, start: number): number {
  let i = start + 1;
  while (i < source.length) {
    if (source[i] === "\\") i += 2;
    else if (source[i] === '"') return i + 1;
    else if (source.startsWith("${", i)) {
      let depth = 0;
      do {
        if (source[i] === "{") depth++;
        else if (source[i] === "}") depth--;
        i++;
      } while (depth > 0 && i < source.length);
    } else i++;
  }
  throw new PolicyParseError(`unterminated string at ${start}`);
}
