/* Ticket pages: article suggestions while typing a subject, attachment limits checked
   before upload, field errors cleared once corrected, and times shown in the reader's own
   time zone beside Eastern.
   Everything here is an enhancement: without it the form and pages work the same. */
(function () {
  "use strict";

  var BUSINESS_ZONE = "America/New_York";

  /* -- times: "Mon, Nov 30, 2026 at 7:30 PM ET" + "(4:30 PM your time)" ------------------ */
  function localTimes() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    var nodes = document.querySelectorAll("time[data-local-time]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var businessZone = node.getAttribute("data-local-time") || BUSINESS_ZONE;
      if (!zone || zone === businessZone || node.getAttribute("data-localised")) continue;
      var when = new Date(node.getAttribute("datetime"));
      if (isNaN(when.getTime())) continue;
      var text = when.toLocaleString(undefined, {
        weekday: "short", month: "short", day: "numeric", hour: "numeric",
        minute: "2-digit", timeZoneName: "short"
      });
      var extra = document.createElement("span");
      extra.className = "local-time";
      extra.textContent = " (" + text + " your time)";
      node.setAttribute("data-localised", "1");
      node.setAttribute("title", "Your time zone: " + zone);
      node.parentNode.insertBefore(extra, node.nextSibling);
    }
  }

  /* -- suggestions while typing the subject ----------------------------------------------- */
  function plainText(html) {
    // Snippets may carry highlight markup; show them as text, never as HTML.
    var doc = new DOMParser().parseFromString(String(html || ""), "text/html");
    return (doc.body.textContent || "").trim();
  }

  function suggestions(form) {
    var input = form.querySelector("#subject");
    var list = document.getElementById("ticket-suggestions");
    var status = document.getElementById("suggestions-status");
    var apiUrl = form.getAttribute("data-suggest-url");
    var openUrl = form.getAttribute("data-open-url");
    if (!input || !list || !status || !apiUrl || !window.fetch) return;
    var timer = null;
    var latest = 0;
    var lastQuery = null;

    function show(results, query) {
      list.textContent = "";
      if (!results.length) {
        status.textContent = "No articles match “" + query + "” yet. Keep typing, or file the ticket.";
        return;
      }
      status.textContent = "These articles match your subject. They open in a new tab, so your form stays here.";
      results.forEach(function (item) {
        if (!item || !item.slug) return;
        var li = document.createElement("li");
        li.className = "article-item suggestion";
        var link = document.createElement("a");
        link.href = openUrl.replace("__slug__", encodeURIComponent(item.slug)) +
          "?subject=" + encodeURIComponent(query);
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = item.title || item.slug;
        li.appendChild(link);
        var snippet = plainText(item.snippet);
        if (snippet) {
          var p = document.createElement("p");
          p.className = "muted";
          p.textContent = snippet.length > 180 ? snippet.slice(0, 177) + "…" : snippet;
          li.appendChild(p);
        }
        list.appendChild(li);
      });
    }

    function lookUp() {
      var query = input.value.trim();
      if (query === lastQuery) return;
      lastQuery = query;
      var mine = ++latest;
      if (query.length < 3) {
        list.textContent = "";
        status.textContent = "Start typing a subject and matching articles appear here.";
        return;
      }
      var url = apiUrl + "?q=" + encodeURIComponent(query) + "&per_page=5";
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (mine !== latest) return;  // a newer keystroke already asked
          show(Array.isArray(data && data.results) ? data.results.slice(0, 5) : [], query);
        })
        .catch(function () {
          if (mine !== latest) return;
          list.textContent = "";
          status.textContent = "Suggestions are not available right now; you can still file the ticket.";
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, 250);
    });
    if (input.value.trim()) lookUp();
  }

  /* -- field errors: shown beside the field, gone once it is corrected ------------------- */
  function describedBy(control, id, on) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (x) {
      return x && x !== id;
    });
    if (on) ids.push(id);
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function markField(control, error, message) {
    var block = control.closest(".field");
    error.textContent = message;
    error.hidden = !message;
    if (block && block.contains(error)) block.classList.toggle("has-error", !!message);
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
    if (error.id) describedBy(control, error.id, !!message);
  }

  function isCorrected(control) {
    if (control.required && !String(control.value || "").trim()) return false;
    return !control.checkValidity || control.checkValidity();
  }

  /* The server's message is about the value it refused. Once the reader changes the field
     to something that passes the checks the browser knows (required, maximum length,
     pattern), the message goes; the server checks everything again on submit. */
  function clearCorrectedErrors(root) {
    var blocks = root.querySelectorAll(".field.has-error");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      if (block.querySelector("[data-attachments-error]")) continue;  // attachmentLimits
      var controls = block.querySelectorAll("input, textarea, select");
      if (!controls.length) continue;
      watch(block, controls);
    }

    function snapshot(controls) {
      return Array.prototype.map.call(controls, function (c) {
        return c.type === "radio" || c.type === "checkbox" ? String(c.checked) : c.value;
      }).join("\u0000");
    }

    function watch(block, controls) {
      var refused = snapshot(controls);
      function update() {
        if (!block.classList.contains("has-error") || snapshot(controls) === refused) return;
        for (var j = 0; j < controls.length; j++) if (!isCorrected(controls[j])) return;
        var errors = block.querySelectorAll(".field-error");
        for (var k = 0; k < errors.length; k++) {
          for (var m = 0; m < controls.length; m++) {
            if (errors[k].id) describedBy(controls[m], errors[k].id, false);
          }
          errors[k].parentNode.removeChild(errors[k]);
        }
        var hints = block.querySelectorAll(".hint[id]");
        for (var n = 0; n < controls.length; n++) {
          controls[n].removeAttribute("aria-invalid");
          for (var h = 0; h < hints.length; h++) describedBy(controls[n], hints[h].id, true);
        }
        block.classList.remove("has-error");
      }
      block.addEventListener("input", update);
      block.addEventListener("change", update);
    }
  }

  /* -- attachment limits, checked before a long upload fails ------------------------------ */
  function attachmentLimits(form) {
    var input = form.querySelector("input[type=file]");
    var error = form.querySelector("[data-attachments-error]");
    if (!input || !error) return;
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var maxFiles = parseInt(form.getAttribute("data-max-files"), 10) || 0;

    function problem() {
      var files = input.files || [];
      if (maxFiles && files.length > maxFiles) return "Attach at most " + maxFiles + " files.";
      for (var i = 0; i < files.length; i++) {
        if (maxBytes && files[i].size > maxBytes) {
          return "“" + files[i].name + "” is larger than " + Math.round(maxBytes / 1048576) + " MB.";
        }
      }
      return "";
    }

    function check() {
      var message = problem();
      markField(input, error, message);  // also takes away a refusal from the server
      return !message;
    }

    input.addEventListener("change", check);
    form.addEventListener("submit", function (event) {
      if (!check()) {
        event.preventDefault();
        input.focus();
        return;
      }
      var button = form.querySelector("button[type=submit]");
      if (button) {
        // The server already files a double submit once; this just avoids the wait.
        setTimeout(function () { button.disabled = true; button.textContent = "Sending…"; }, 0);
      }
    });
  }

  function start() {
    localTimes();
    var form = document.getElementById("ticket-form");
    if (form) suggestions(form);
    var withFiles = document.querySelectorAll("form[data-max-bytes]");
    for (var i = 0; i < withFiles.length; i++) {
      clearCorrectedErrors(withFiles[i]);
      attachmentLimits(withFiles[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
