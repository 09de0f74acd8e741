// Velocity 1.7 (API Gateway's) lets a double-quoted string literal hold a quote written twice:
// `$util.base64Encode("{ ""site"" : ""$x"" }")`, as the clickstream seed's template does.
// velocityjs's grammar has no such escape, so before parsing each doubled quote inside a string
// literal of a directive or method call becomes a reference to a variable holding `"`, which
// the interpolation of the double-quoted string turns back into the quote.

export const QUOTE_VARIABLE = "vtlDoubledQuote";

export function rewriteDoubledQuotes(template: string): string {
  let out = "";
  let depth = 0; // parentheses of a call or directive argument list
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (inString) {
      if (c === '"' && template[i + 1] === '"') {
        out += `\${${QUOTE_VARIABLE}}`;
        i++;
        continue;
      }
      if (c === '"') inString = false;
      out += c;
      continue;
    }
    if (depth > 0) {
      if (c === '"') inString = true;
      else if (c === "(") depth++;
      else if (c === ")") depth--;
      out += c;
      continue;
    }
    // Outside argument lists only a `(` that opens a directive's or a method's arguments counts.
    if (c === "(" && /(?:#\{?[a-zA-Z]+\}?\s*|\$!?\{?[a-zA-Z][\w.-]*(?:\([^()]*\))?(?:\.[a-zA-Z]\w*)*)$/.test(out)) depth = 1;
    out += c;
  }
  return out;
}
