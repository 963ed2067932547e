/* Search box type-ahead on every page, and click logging on the results page.
   Loaded with `defer` from base.html; the endpoints come from the script tag's data
   attributes. Everything here is an enhancement: without it the search forms submit
   normally and results are plain links (clicks are then logged through <a ping>). */
(function () {
  "use strict";

  var script = document.currentScript;
  var SUGGEST_URL = script && script.getAttribute("data-suggest-url");
  var MIN_CHARS = 2;
  var DELAY_MS = 120;
  var counter = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function attach(input) {
    var form = input.form;
    if (!form || !SUGGEST_URL || input.getAttribute("data-suggest-ready")) return;
    input.setAttribute("data-suggest-ready", "1");
    counter += 1;
    var listId = "suggest-" + counter;
    var list = el("ul", "suggest-list");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    var status = el("p", "visually-hidden");
    status.setAttribute("role", "status");
    form.classList.add("has-suggestions");
    form.appendChild(list);
    form.appendChild(status);
    /* The box keeps its native searchbox role (pages and tests find it by that role);
       the list is tied to it with aria-controls / aria-activedescendant, and a status
       line tells screen readers how many suggestions there are. */
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var latest = 0;
    var options = [];
    var active = -1;

    function close() {
      list.hidden = true;
      list.textContent = "";
      options = [];
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.classList.remove("is-open");
      status.textContent = "";
    }

    function highlight(index) {
      for (var i = 0; i < options.length; i++) {
        options[i].node.setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].node.id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(option) {
      if (option.url) {
        window.location.assign(option.url);
      } else {
        input.value = option.query;
        close();
        form.submit();
      }
    }

    function addOption(kind, label, data) {
      var node = el("li", "suggest-item suggest-" + kind);
      node.id = listId + "-" + options.length;
      node.setAttribute("role", "option");
      node.setAttribute("aria-selected", "false");
      node.appendChild(el("span", "suggest-kind", kind === "article" ? "Article" : "Search"));
      node.appendChild(el("span", "suggest-label", label));
      var option = { node: node, url: data.url || null, query: data.query || null };
      var index = options.length;
      node.addEventListener("mousedown", function (event) {
        event.preventDefault(); /* keep focus in the box until chosen */
      });
      node.addEventListener("click", function () { choose(option); });
      node.addEventListener("mousemove", function () {
        if (active !== index) highlight(index);
      });
      options.push(option);
      list.appendChild(node);
    }

    function render(data) {
      close();
      (data.queries || []).forEach(function (query) {
        addOption("query", query, { query: query });
      });
      (data.articles || []).forEach(function (article) {
        addOption("article", article.title, { url: article.url });
      });
      status.textContent = options.length ?
        options.length + " suggestions; use the arrow keys to choose" : "";
      if (!options.length) return;
      list.hidden = false;
      list.classList.add("is-open");
    }

    function fetchSuggestions() {
      var value = input.value.trim();
      if (value.length < MIN_CHARS) {
        close();
        return;
      }
      var mine = ++latest;
      var url = SUGGEST_URL + "?q=" + encodeURIComponent(value.slice(0, 200));
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && mine === latest && document.activeElement === input) render(data);
        })
        .catch(function () { /* type-ahead is optional: stay quiet */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !options.length) {
        if (event.key === "ArrowDown" && input.value.trim().length >= MIN_CHARS) {
          fetchSuggestions();
        }
        return;
      }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active <= 0 ? options.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(options[active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
  }

  /* Results: tell the server which result was opened, without delaying the click. */
  function trackClicks() {
    var links = document.querySelectorAll("a[data-search-click]");
    for (var i = 0; i < links.length; i++) {
      links[i].removeAttribute("ping"); /* the beacon replaces it: count once */
      links[i].addEventListener("click", function (event) {
        var url = event.currentTarget.getAttribute("data-search-click");
        if (!url) return;
        if (navigator.sendBeacon) {
          navigator.sendBeacon(url);
        } else {
          fetch(url, { method: "POST", keepalive: true, credentials: "same-origin" });
        }
      });
    }
  }

  var inputs = document.querySelectorAll('form[role="search"] input[name="q"]');
  for (var i = 0; i < inputs.length; i++) attach(inputs[i]);
  trackClicks();
})();
