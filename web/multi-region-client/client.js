// The seed's client: calls the Hello World API through the platform domain every 10 s and
// prints the history of messages, so that a failover shows as the region in the messages
// changing. `?endpoint=` and `?interval=` (seconds) override settings.js, for the local cloud.
(function () {
  var params = new URLSearchParams(window.location.search);
  var endpoint = params.get("endpoint") || helloworldMultiregionendpoint;
  if (!endpoint.endsWith("/")) endpoint += "/";
  var intervalSeconds = Number(params.get("interval")) || 10;
  var url = endpoint + "v1/helloworld/";
  var history = document.getElementById("client_result");
  var error = document.getElementById("client_error");
  document.getElementById("client_url").textContent = url;
  document.getElementById("client_interval").textContent = String(intervalSeconds);

  function append(text, kind) {
    var line = document.createElement("p");
    line.className = kind;
    line.textContent = new Date().toISOString().slice(11, 19) + " " + text;
    history.appendChild(line);
  }

  function callService() {
    // cache: "no-store" is the seed's `cache: false`.
    fetch(url, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        error.textContent = "";
        append(String(data.message), "message");
      })
      .catch(function (e) {
        error.textContent = "ERROR: " + e.message;
        append("ERROR: " + e.message, "error");
      })
      .finally(function () {
        // The next call once this one is complete, as the seed schedules it.
        setTimeout(callService, intervalSeconds * 1000);
      });
  }
  callService();
})();
