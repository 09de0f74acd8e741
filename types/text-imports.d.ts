// SQL files imported as text (`import sql from "../../sql/x.sql" with { type: "text" }`): esbuild
// bundles them so, and vitest.config.ts loads them so in tests.
declare module "*.sql" {
  const text: string;
  export default text;
}
