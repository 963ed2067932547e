/* Service notices: show notice times in the reader's own time zone as well as Eastern. */
(function () {
  "use strict";
  var here;
  try {
    here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (err) {
    return;
  }
  var options = { weekday: "short", month: "short", day: "numeric", hour: "numeric",
                  minute: "2-digit" };

  function format(date, zone, withZoneName) {
    var opts = Object.assign({}, options, { timeZone: zone });
    if (withZoneName) { opts.timeZoneName = "short"; }
    return new Intl.DateTimeFormat(undefined, opts).format(date);
  }

  var shown = false;
  document.querySelectorAll(".js-local-time:not([data-done])").forEach(function (span) {
    span.setAttribute("data-done", "1");
    var zone = span.getAttribute("data-zone");
    var start = new Date(span.getAttribute("data-start"));
    var endText = span.getAttribute("data-end");
    var end = endText ? new Date(endText) : null;
    if (isNaN(start.getTime()) || format(start, zone) === format(start, here)) {
      return; /* the reader is on Eastern time already */
    }
    var text = "Your time: " + format(start, here, !end);
    if (end) { text += " – " + format(end, here, true); }
    span.textContent = "(" + text + ")";
    span.hidden = false;
    shown = true;
  });
  if (shown) {
    document.querySelectorAll(".js-local-zone").forEach(function (el) { el.hidden = false; });
  }
})();
