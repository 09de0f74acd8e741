// The platform's multi-region endpoint (the custom domain; the client appends v1/helloworld/).
// For the local cloud, open the page with ?endpoint=<the "platformDomain.httpUrl" of .local/endpoints.json>.
var helloworldMultiregionendpoint = "https://api.dev.example.com/";
