/* The header menu. Loaded without `defer` in <head>: it only marks the page as scripted
   (class "js" on <html>) at once, so that on a phone the links start folded behind the
   "Menu" button instead of flashing open, and wires the button up once the page is read.
   Without JavaScript the button stays hidden and the links show as a wrapped row; the
   account menu is a <details> element and opens without script too. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function setUp() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    var more = document.querySelector(".nav-more");  // the account menu (signed in)

    function setOpen(open) {
      if (!toggle || !menu) return;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }

    if (toggle && menu) {
      toggle.addEventListener("click", function () {
        setOpen(toggle.getAttribute("aria-expanded") !== "true");
      });
    }

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      if (more && more.open) {
        more.open = false;
        more.querySelector("summary").focus();
      } else if (toggle && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });

    // The account menu closes when the reader clicks or tabs elsewhere.
    if (more) {
      document.addEventListener("click", function (event) {
        if (more.open && !more.contains(event.target)) more.open = false;
      });
      more.addEventListener("focusout", function (event) {
        if (more.open && event.relatedTarget && !more.contains(event.relatedTarget)) {
          more.open = false;
        }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
