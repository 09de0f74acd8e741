// @authenio/samlify-xmllint-wasm ships no types; the SAML benchmark uses it as its baseline.
declare module "@authenio/samlify-xmllint-wasm" {
  export function validate(xml: string): Promise<unknown>;
}
