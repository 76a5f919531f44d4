// live.js follows an open incident's page: when the server's event
// stream says the incident changed, it fetches the page again and swaps
// in its changing parts (the elements marked data-live), so the reader
// keeps their place. Without JavaScript the page works; it just does not
// update until reloaded.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var status = document.getElementById("live-status");
  var say = function (text) { if (status) { status.textContent = text; } };
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var fresh = doc.getElementById(old.id);
          if (fresh) { old.replaceWith(document.importNode(fresh, true)); }
        });
        say("Updated " + new Date().toLocaleTimeString() + ".");
      })
      .catch(function () { say("Could not update; reload the page."); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var events = new EventSource(live.getAttribute("data-events"));
  events.addEventListener("update", refresh);
  events.addEventListener("closed", function () { events.close(); refresh(); say("The incident is closed."); });
})();
