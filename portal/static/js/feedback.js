// "Was this article helpful?" in place: the same forms that work without JavaScript,
// sent with fetch(); the answer is written to the widget's aria-live status line.
(function () {
  "use strict";

  var CURRENT = {
    yes: "You answered Yes. You can change your answer at any time.",
    no: "You answered No. You can change your answer at any time."
  };

  function setup(section) {
    var yesForm = section.querySelector("[data-feedback-yes]");
    var noForm = section.querySelector("[data-feedback-no]");
    var reasonsForm = section.querySelector("[data-feedback-reasons]");
    var status = section.querySelector("[data-feedback-status]");
    var current = section.querySelector("[data-feedback-current]");
    if (!yesForm || !noForm || !reasonsForm || !status) return;
    var noButton = noForm.querySelector("button");
    var reasonList = reasonsForm.querySelector("fieldset");
    var yesButton = yesForm.querySelector("button");

    function announce(message, kind) {
      // Clear first so that the same message twice is announced twice.
      status.textContent = "";
      status.className = "feedback-status" + (kind ? " is-" + kind : "");
      window.setTimeout(function () { status.textContent = message; }, 50);
    }

    function showChoice(vote) {
      yesButton.classList.toggle("is-chosen", vote === "yes");
      noButton.classList.toggle("is-chosen", vote === "no");
      if (current && CURRENT[vote]) current.textContent = CURRENT[vote];
    }

    function setOpen(open) {
      reasonsForm.hidden = !open;
      noButton.setAttribute("aria-expanded", open ? "true" : "false");
    }

    function send(form) {
      var button = form.querySelector("button[type=submit], button:not([type])");
      if (button) { button.disabled = true; form.setAttribute("aria-busy", "true"); }
      var done = function () {
        if (button) { button.disabled = false; form.removeAttribute("aria-busy"); }
      };
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) throw new Error("not JSON");
        return response.json().then(function (data) { return { response: response, data: data }; });
      }).then(function (result) {
        done();
        var data = result.data;
        if (reasonList) reasonList.classList.toggle("has-error", data.field === "reasons");
        if (result.response.ok && data.ok) {
          showChoice(data.vote);
          if (form === reasonsForm || data.vote === "yes") setOpen(false);
          announce(data.message, "success");
          return;
        }
        announce(data.message || "Your feedback could not be sent. Please try again.", "error");
        if (data.field === "reasons") {
          var first = reasonsForm.querySelector("input[type=checkbox]");
          if (first) first.focus();
        }
      }).catch(function () {
        // Network trouble or an unexpected answer: send the plain form instead.
        done();
        form.submit();
      });
    }

    yesForm.addEventListener("submit", function (event) {
      event.preventDefault();
      send(yesForm);
    });

    noForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var opening = reasonsForm.hidden;
      setOpen(true);
      if (opening) {
        var first = reasonsForm.querySelector("input[type=checkbox]");
        if (first) first.focus();
      }
    });

    reasonsForm.addEventListener("submit", function (event) {
      event.preventDefault();
      send(reasonsForm);
    });
  }

  function init() {
    var sections = document.querySelectorAll("[data-feedback]");
    for (var i = 0; i < sections.length; i += 1) setup(sections[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
