// Show every <time datetime="…Z"> of the dashboard in the viewer's time zone.
// The server renders UTC; the UTC text stays in the title (shown on hover).
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at.getTime())) return;
    el.textContent = format.format(at);
    el.setAttribute("data-local", "1");
  });
})();
