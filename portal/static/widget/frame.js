/* The "Knowledge Base" panel inside the widget's iframe (issue 16).

   Everything comes from the JSON API under data-api, sent with the frame token in
   X-Widget-Token and no cookies (a third-party iframe gets none). Text from the server is
   written with textContent; only the fields the API marks as safe HTML (snippet_html,
   html, body_html) are inserted as HTML. The page talks to one window only: its parent,
   at the exact origin in data-host. */
(function () {
  "use strict";

  var body = document.body;
  var TOKEN = body.getAttribute("data-token") || "";
  var HOST = body.getAttribute("data-host") || "";
  var CONTEXT = body.getAttribute("data-context") || "";
  var API = (body.getAttribute("data-api") || "").replace(/\/$/, "");
  var PORTAL = (body.getAttribute("data-portal") || "").replace(/\/$/, "");
  var SUGGEST_DELAY_MS = 150;
  var MIN_CHARS = 2;
  var EMBEDDED = window.parent !== window;

  var main = document.querySelector("[data-kb-main]");
  var scroller = document.querySelector(".kb-scroll");
  var form = document.querySelector("[data-kb-search]");
  var input = document.getElementById("kb-q");
  var list = document.getElementById("kb-suggest");
  var suggestStatus = document.querySelector("[data-kb-suggest-status]");
  var announcer = document.querySelector("[data-kb-announce]");
  var statusStrip = document.querySelector("[data-kb-status]");
  var identityLine = document.querySelector("[data-kb-identity]");
  var footer = document.querySelector("[data-kb-footer]");
  var handoffButton = document.querySelector("[data-kb-handoff]");
  var handoffStatus = document.querySelector("[data-kb-handoff-status]");

  var home = null;          // the /home answer, kept for "Back"
  var lastSearch = null;    // the /search answer, kept for "Back"
  var returnFocus = null;   // the link that opened the article
  var userToken = "";       // the host's signed user token, once the portal accepted it
  var readyPosted = false;

  /* ---------- small helpers ---------- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function announce(message) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  function postToHost(type) {
    if (EMBEDDED && HOST) window.parent.postMessage({ source: "portal-kb", type: type }, HOST);
  }

  function api(method, path, payload) {
    var options = {
      method: method,
      credentials: "omit",
      cache: "no-store",
      headers: { "Accept": "application/json", "X-Widget-Token": TOKEN }
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return fetch(API + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error((data && data.error) || "Something went wrong. Please try again.");
          error.status = response.status;
          if (response.status === 401) offerReload(error.message);
          throw error;
        }
        return data;
      });
    }, function () {
      throw new Error("The help center cannot be reached right now. Please try again.");
    });
  }

  function portalUrl(url) {
    if (!url) return PORTAL + "/";
    try { return new URL(url, PORTAL + "/").href; } catch (e) { return PORTAL + "/"; }
  }

  /* The frame token has expired (12 h) or the portal's key changed: the page must be
     loaded again for a new one. The loader keeps the frame across close and open. */
  var reloadBox = null;

  function offerReload(message) {
    if (reloadBox) return;
    reloadBox = el("div", "kb-error kb-expired");
    reloadBox.setAttribute("role", "alert");
    reloadBox.appendChild(el("p", null, message));
    var again = el("button", "kb-button", "Reload the panel");
    again.type = "button";
    again.addEventListener("click", function () { window.location.reload(); });
    reloadBox.appendChild(again);
    form.parentNode.insertBefore(reloadBox, form);
    again.focus();
  }

  function showError(where, message) {
    var p = el("p", "kb-error", message);
    p.setAttribute("role", "alert");
    where.appendChild(p);
  }

  function formatDate(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    return date.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
  }

  function heading(text, level) {
    return el("h" + (level || 2), "kb-heading", text);
  }

  /* An article link: a normal click reads it in the panel; a modified click (new tab,
     new window) follows the link to the help center, which opens in a new tab. */
  function articleLink(article, className) {
    var a = el("a", className || "kb-link", article.title);
    a.href = portalUrl(article.url);
    a.target = "_blank";
    a.rel = "noopener";
    a.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button) return;
      event.preventDefault();
      openArticle(article.slug, a);
    });
    return a;
  }

  function articleList(articles, showSummary) {
    var ul = el("ul", "kb-list");
    articles.forEach(function (article) {
      var li = el("li", "kb-item");
      li.appendChild(articleLink(article));
      if (showSummary && article.summary) li.appendChild(el("p", "kb-summary", article.summary));
      ul.appendChild(li);
    });
    return ul;
  }

  /* ---------- status strip: open now, incidents, maintenance ---------- */

  function renderStatus(status) {
    clear(statusStrip);
    if (!status) { statusStrip.hidden = true; return; }
    var line = el("p", "kb-hours " + (status.open_now ? "is-open" : "is-closed"));
    line.appendChild(el("span", "kb-dot"));
    line.appendChild(el("strong", null, status.text ||
      (status.open_now ? "Support is open now" : "Support is closed now")));
    if (status.hours) line.appendChild(el("span", "kb-hours-text", "Hours: " + status.hours));
    statusStrip.appendChild(line);
    (status.notices || []).forEach(function (notice) {
      var box = el("div", "kb-notice kb-notice-" + (notice.kind === "incident" ?
        "incident" : "maintenance"));
      var title = el("p", "kb-notice-title");
      title.appendChild(el("span", "kb-notice-kind",
        notice.kind === "incident" ? "Incident" : "Maintenance"));
      title.appendChild(document.createTextNode(" "));
      if (notice.url) {
        var a = el("a", null, notice.title);
        a.href = portalUrl(notice.url);
        a.target = "_blank";
        a.rel = "noopener";
        title.appendChild(a);
      } else {
        title.appendChild(el("span", null, notice.title));
      }
      box.appendChild(title);
      if (notice.when) box.appendChild(el("p", "kb-notice-when", notice.when));
      if (notice.body_html) {
        var html = el("div", "kb-notice-body");
        html.innerHTML = notice.body_html;  // safe HTML from the server
        box.appendChild(html);
      } else if (notice.text) {
        box.appendChild(el("p", "kb-notice-body", notice.text));
      }
      statusStrip.appendChild(box);
    });
    statusStrip.hidden = false;
  }

  /* ---------- views ---------- */

  function showView(name, build) {
    clear(main);
    main.setAttribute("data-view", name);
    build(main);
    scroller.scrollTop = 0;
  }

  function renderHome() {
    showView("home", function (root) {
      var context = (home && home.context_articles) || [];
      if (context.length) {
        var suggested = el("section", "kb-section");
        suggested.setAttribute("aria-labelledby", "kb-suggested");
        var h = heading("Suggested for you");
        h.id = "kb-suggested";
        suggested.appendChild(h);
        suggested.appendChild(articleList(context, true));
        root.appendChild(suggested);
      }
      var popular = (home && home.popular) || [];
      if (popular.length) {
        var section = el("section", "kb-section");
        section.setAttribute("aria-labelledby", "kb-popular");
        var h2 = heading("Popular articles");
        h2.id = "kb-popular";
        section.appendChild(h2);
        section.appendChild(articleList(popular, false));
        root.appendChild(section);
      }
      if (!context.length && !popular.length) {
        root.appendChild(el("p", "kb-muted", "Search for an answer above."));
      }
    });
  }

  // The home view's data: in the page when the portal put it there, else from the API.
  function homeData() {
    var embedded = document.getElementById("kb-home");
    if (embedded) {
      try { return Promise.resolve(JSON.parse(embedded.textContent)); } catch (e) { /* API */ }
    }
    var query = CONTEXT ? "?context=" + encodeURIComponent(CONTEXT) : "";
    return api("GET", "/home" + query);
  }

  function loadHome() {
    return homeData().then(function (data) {
      home = data;
      renderStatus(data.status);
      if (data.identity) showIdentity(data.identity);
      if (!lastSearch && main.getAttribute("data-view") !== "article") renderHome();
    }, function (error) {
      if (!lastSearch && main.getAttribute("data-view") !== "article") {
        showView("home", function (root) { showError(root, error.message); });
      }
    });
  }

  function renderResults(data) {
    showView("results", function (root) {
      var shown = data.corrected || data.query;
      var total = data.total || 0;
      var results = data.results || [];
      var summary = el("p", "kb-result-count");
      if (data.corrected) {
        summary.appendChild(document.createTextNode("Showing results for "));
        summary.appendChild(el("strong", null, data.corrected));
        summary.appendChild(document.createTextNode(" (you typed “" + data.query + "”)"));
      } else {
        summary.appendChild(document.createTextNode(
          total === 1 ? "1 article for " : total + " articles for "));
        summary.appendChild(el("strong", null, shown));
      }
      root.appendChild(summary);
      if (!results.length) {
        root.appendChild(el("p", "kb-muted",
          "No articles match. Try other words, or submit a ticket below."));
      }
      var ul = el("ul", "kb-list kb-results");
      results.forEach(function (result) {
        var li = el("li", "kb-item");
        var title = el("h2", "kb-result-title");
        title.appendChild(articleLink(result));
        li.appendChild(title);
        if (result.category) li.appendChild(el("p", "kb-category", result.category));
        if (result.snippet_html) {
          var snippet = el("p", "kb-snippet");
          snippet.innerHTML = result.snippet_html;  // safe HTML (<mark>) from the server
          li.appendChild(snippet);
        }
        ul.appendChild(li);
      });
      if (results.length) root.appendChild(ul);
      if (total > results.length) {
        var more = el("a", "kb-more", "See all " + total + " results in the help center");
        more.href = PORTAL + "/search?q=" + encodeURIComponent(shown);
        more.target = "_blank";
        more.rel = "noopener";
        root.appendChild(more);
      }
      if (!results.length && (data.popular || []).length) {
        root.appendChild(heading("Popular articles"));
        root.appendChild(articleList(data.popular, false));
      }
      announce(results.length ? total + (total === 1 ? " article found" : " articles found")
        : "No articles found");
    });
  }

  function search(query) {
    query = query.trim();
    if (!query) { input.focus(); return; }
    closeSuggestions();
    main.setAttribute("aria-busy", "true");
    var path = "/search?q=" + encodeURIComponent(query.slice(0, 200)) +
      (CONTEXT ? "&context=" + encodeURIComponent(CONTEXT) : "");
    api("GET", path).then(function (data) {
      main.removeAttribute("aria-busy");
      lastSearch = data;
      renderResults(data);
      footer.hidden = false;
    }, function (error) {
      main.removeAttribute("aria-busy");
      showView("results", function (root) { showError(root, error.message); });
    });
  }

  function backButton() {
    var back = el("button", "kb-button kb-back", "Back");
    back.type = "button";
    back.addEventListener("click", function () {
      var from = returnFocus;
      if (lastSearch) renderResults(lastSearch); else renderHome();
      var again = from && findLinkLike(from);
      (again || input).focus();
    });
    return back;
  }

  // The views are rebuilt on "Back": find the link to the same article in the new view.
  function findLinkLike(old) {
    var links = main.querySelectorAll("a.kb-link");
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === old.href) return links[i];
    }
    return null;
  }

  function openArticle(slug, from) {
    returnFocus = from || null;
    main.setAttribute("aria-busy", "true");
    api("GET", "/articles/" + encodeURIComponent(slug)).then(function (article) {
      main.removeAttribute("aria-busy");
      showView("article", function (root) { renderArticle(root, article); });
      var title = main.querySelector(".kb-article-title");
      if (title) title.focus();
    }, function (error) {
      main.removeAttribute("aria-busy");
      showView("article", function (root) {
        root.appendChild(backButton());
        showError(root, error.message);
      });
    });
  }

  function renderArticle(root, article) {
    var bar = el("div", "kb-article-bar");
    bar.appendChild(backButton());
    var open = el("a", "kb-open", "Open in the help center");
    open.href = portalUrl(article.url);
    open.target = "_blank";
    open.rel = "noopener";
    bar.appendChild(open);
    root.appendChild(bar);
    var articleNode = el("article", "kb-article");
    var title = el("h2", "kb-article-title", article.title);
    title.tabIndex = -1;
    articleNode.appendChild(title);
    var updated = formatDate(article.updated);
    if (updated) articleNode.appendChild(el("p", "kb-muted kb-updated", "Updated " + updated));
    var content = el("div", "kb-article-body");
    content.innerHTML = article.html || "";  // safe, rendered by the help center
    fixLinks(content);
    articleNode.appendChild(content);
    root.appendChild(articleNode);
    root.appendChild(feedbackSection(article));
  }

  /* Links inside an article: another article opens in the panel; anything else opens in
     a new tab, so the frame itself never navigates away. */
  function fixLinks(content) {
    var links = content.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      var href = a.getAttribute("href");
      if (href.charAt(0) === "#") {
        a.removeAttribute("href");  // headings' permalinks mean nothing in the panel
        a.setAttribute("aria-hidden", "true");
        a.hidden = true;
        continue;
      }
      var url;
      try { url = new URL(href, PORTAL + "/"); } catch (e) { continue; }
      a.href = url.href;
      a.target = "_blank";
      a.rel = "noopener";
      var match = url.origin === PORTAL && /^\/articles\/([^/?#]+)\/?$/.exec(url.pathname);
      if (match) {
        (function (link, slug) {
          link.addEventListener("click", function (event) {
            if (event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
            event.preventDefault();
            openArticle(slug, null);
          });
        })(a, decodeURIComponent(match[1]));
      }
    }
  }

  var reasonCounter = 0;

  function feedbackSection(article) {
    var feedback = article.feedback || {};
    var section = el("section", "kb-feedback");
    var question = el("h3", "kb-feedback-question",
      feedback.question || "Was this article helpful?");
    question.id = "kb-feedback-q";
    section.setAttribute("aria-labelledby", question.id);
    section.appendChild(question);
    var choices = el("div", "kb-choices");
    var yes = el("button", "kb-button", "Yes");
    var no = el("button", "kb-button", "No");
    yes.type = no.type = "button";
    no.setAttribute("aria-expanded", "false");
    choices.appendChild(yes);
    choices.appendChild(no);
    section.appendChild(choices);

    var reasonsForm = el("form", "kb-reasons");
    reasonsForm.hidden = true;
    reasonsForm.noValidate = true;
    reasonsForm.id = "kb-reasons";
    no.setAttribute("aria-controls", reasonsForm.id);
    var fieldset = el("fieldset", "kb-reason-list");
    var legend = el("legend", null, "Sorry about that. What went wrong? ");
    legend.appendChild(el("span", "kb-muted", "Choose at least one."));
    fieldset.appendChild(legend);
    (feedback.reasons || []).forEach(function (reason) {
      reasonCounter += 1;
      var label = el("label", "kb-reason");
      var box = el("input");
      box.type = "checkbox";
      box.name = "reasons";
      box.value = reason.value;
      box.id = "kb-reason-" + reasonCounter;
      label.htmlFor = box.id;
      label.appendChild(box);
      label.appendChild(el("span", null, reason.label));
      fieldset.appendChild(label);
    });
    if ((feedback.reasons || []).length) reasonsForm.appendChild(fieldset);
    var commentLabel = el("label", "kb-label", "Anything else we should know? ");
    commentLabel.appendChild(el("span", "kb-muted", "(optional)"));
    commentLabel.htmlFor = "kb-comment";
    var hint = el("p", "kb-hint", "Please leave out passwords and personal details; " +
      "to get an answer, submit a ticket.");
    hint.id = "kb-comment-hint";
    var comment = el("textarea", "kb-textarea");
    comment.id = "kb-comment";
    comment.name = "comment";
    comment.rows = 3;
    comment.maxLength = feedback.comment_max || 1000;
    comment.setAttribute("aria-describedby", hint.id);
    reasonsForm.appendChild(commentLabel);
    reasonsForm.appendChild(comment);
    reasonsForm.appendChild(hint);
    var send = el("button", "kb-button kb-button-primary", "Send feedback");
    send.type = "submit";
    reasonsForm.appendChild(send);
    section.appendChild(reasonsForm);

    var status = el("p", "kb-feedback-status");
    status.setAttribute("role", "status");
    section.appendChild(status);

    function vote(helpful, reasons, text, busy) {
      busy.disabled = true;
      status.className = "kb-feedback-status";
      status.textContent = "";
      api("POST", "/articles/" + encodeURIComponent(article.slug) + "/vote",
        { helpful: helpful, reasons: reasons, comment: text }).then(function (data) {
        busy.disabled = false;
        reasonsForm.hidden = true;
        no.setAttribute("aria-expanded", "false");
        yes.classList.toggle("is-chosen", helpful === "yes");
        no.classList.toggle("is-chosen", helpful === "no");
        status.className = "kb-feedback-status is-success";
        status.textContent = data.message || "Thanks for your feedback.";
        fieldset.removeAttribute("aria-invalid");
        fieldset.classList.remove("has-error");
      }, function (error) {
        busy.disabled = false;
        status.className = "kb-feedback-status is-error";
        status.textContent = error.message;
        var noReason = helpful === "no" && !reasons.length;
        fieldset.classList.toggle("has-error", noReason);
        if (noReason) fieldset.setAttribute("aria-invalid", "true");
      });
    }

    if (feedback.current === "yes" || feedback.current === "no") {
      yes.classList.toggle("is-chosen", feedback.current === "yes");
      no.classList.toggle("is-chosen", feedback.current === "no");
      status.textContent = "You answered " + (feedback.current === "yes" ? "Yes" : "No") +
        ". You can change your answer.";
    }
    yes.addEventListener("click", function () { vote("yes", [], "", yes); });
    no.addEventListener("click", function () {
      var opening = reasonsForm.hidden;
      reasonsForm.hidden = !opening;
      no.setAttribute("aria-expanded", opening ? "true" : "false");
      if (opening) {
        var first = reasonsForm.querySelector("input, textarea");
        if (first) first.focus();
      }
    });
    reasonsForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var reasons = [];
      var boxes = reasonsForm.querySelectorAll("input[name=reasons]:checked");
      for (var i = 0; i < boxes.length; i++) reasons.push(boxes[i].value);
      vote("no", reasons, comment.value.trim(), send);
    });
    return section;
  }

  /* ---------- type-ahead: the box keeps its searchbox role; the list is tied to it with
     aria-controls / aria-activedescendant (as static/js/search.js on the site) ---------- */

  var suggestTimer = null;
  var suggestLatest = 0;
  var options = [];
  var active = -1;

  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);

  function closeSuggestions() {
    window.clearTimeout(suggestTimer);
    suggestLatest += 1;  // answers still on the way are dropped
    list.hidden = true;
    clear(list);
    options = [];
    active = -1;
    input.removeAttribute("aria-activedescendant");
    suggestStatus.textContent = "";
  }

  function highlight(index) {
    for (var i = 0; i < options.length; i++) {
      options[i].node.setAttribute("aria-selected", i === index ? "true" : "false");
    }
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].node.id);
      options[index].node.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(option) {
    closeSuggestions();
    if (option.slug) {
      openArticle(option.slug, null);
    } else {
      input.value = option.query;
      search(option.query);
    }
  }

  function addOption(kind, label, data) {
    var node = el("li", "kb-suggest-item");
    node.id = "kb-suggest-" + options.length;
    node.setAttribute("role", "option");
    node.setAttribute("aria-selected", "false");
    node.appendChild(el("span", "kb-suggest-kind", kind === "article" ? "Article" : "Search"));
    node.appendChild(el("span", "kb-suggest-label", label));
    var option = { node: node, slug: data.slug || null, query: data.query || null };
    var index = options.length;
    node.addEventListener("mousedown", function (event) { event.preventDefault(); });
    node.addEventListener("click", function () { choose(option); });
    node.addEventListener("mousemove", function () { if (active !== index) highlight(index); });
    options.push(option);
    list.appendChild(node);
  }

  function renderSuggestions(data) {
    closeSuggestions();
    (data.queries || []).slice(0, 4).forEach(function (query) {
      addOption("query", query, { query: query });
    });
    (data.articles || []).slice(0, 6).forEach(function (article) {
      addOption("article", article.title, { slug: article.slug });
    });
    if (!options.length) return;
    suggestStatus.textContent = options.length + " suggestions; use the arrow keys to choose";
    list.hidden = false;
  }

  function fetchSuggestions() {
    var value = input.value.trim();
    if (value.length < MIN_CHARS) { closeSuggestions(); return; }
    var mine = ++suggestLatest;
    api("GET", "/suggest?q=" + encodeURIComponent(value.slice(0, 200))).then(function (data) {
      if (mine === suggestLatest && document.activeElement === input) renderSuggestions(data);
    }, function () { /* type-ahead is optional: stay quiet */ });
  }

  input.addEventListener("input", function () {
    if (active >= 0) highlight(-1);  // typing on: Enter searches for what is typed
    window.clearTimeout(suggestTimer);
    suggestTimer = window.setTimeout(fetchSuggestions, SUGGEST_DELAY_MS);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden || !options.length) {
      if (event.key === "ArrowDown" && input.value.trim().length >= MIN_CHARS) {
        event.preventDefault();
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
      event.stopPropagation();  // closes the list, not the panel
      closeSuggestions();
    }
  });
  input.addEventListener("blur", function () { window.setTimeout(closeSuggestions, 150); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search(input.value);
  });

  /* ---------- "Submit a Ticket": the portal signs what this visitor searched ---------- */

  handoffButton.addEventListener("click", function () {
    handoffButton.disabled = true;
    handoffStatus.className = "kb-handoff-status";
    handoffStatus.textContent = "Opening the ticket form…";
    api("POST", "/handoff", userToken ? { token: userToken } : {}).then(function (data) {
      handoffButton.disabled = false;
      window.open(data.url, "_blank", "noopener");
      clear(handoffStatus);
      handoffStatus.appendChild(document.createTextNode(
        "The ticket form opened in a new tab. If it did not, "));
      var link = el("a", null, "open the ticket form");
      link.href = data.url;
      link.target = "_blank";
      link.rel = "noopener";
      handoffStatus.appendChild(link);
      handoffStatus.appendChild(document.createTextNode("."));
    }, function (error) {
      handoffButton.disabled = false;
      handoffStatus.className = "kb-handoff-status is-error";
      handoffStatus.textContent = error.message;
    });
  });

  /* ---------- identified users: a token the host page signed ---------- */

  function showIdentity(identity) {
    identityLine.className = "kb-identity is-signed-in";
    identityLine.textContent = "Signed in as " + identity.email +
      (identity.organisation ? " (" + identity.organisation + ")" : "");
    identityLine.hidden = false;
  }

  function identify(token) {
    if (typeof token !== "string" || !token) return;
    api("POST", "/identify", { token: token }).then(function (data) {
      if (data.identity) {
        userToken = token;
        showIdentity(data.identity);
      }
    }, function (error) {
      userToken = "";
      identityLine.className = "kb-identity is-error";
      identityLine.textContent = error.message;
      identityLine.hidden = false;
    });
  }

  window.addEventListener("message", function (event) {
    if (!EMBEDDED || event.origin !== HOST || event.source !== window.parent) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.source !== "portal-kb-host") return;
    if (data.type === "identify") identify(data.userToken);
    else if (data.type === "focus") input.focus();
  });

  /* ---------- closing, and the focus trap ---------- */

  var closeButton = document.querySelector("[data-kb-close]");
  closeButton.addEventListener("click", function () { postToHost("close"); });
  closeButton.hidden = !EMBEDDED;  // opened on its own, there is nothing to close

  function focusables() {
    var nodes = document.querySelectorAll(
      "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
      "textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])");
    var shown = [];
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (node.closest("[hidden]") || node.getClientRects().length === 0) continue;
      shown.push(node);
    }
    return shown;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      if (event.defaultPrevented) return;
      event.preventDefault();
      postToHost("close");
      return;
    }
    if (event.key !== "Tab") return;
    var items = focusables();
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var current = document.activeElement;
    // Focus on a heading (tabindex=-1) or on nothing: wrap only at the ends.
    var atStart = current === first || current === body || !current ||
      !!(first.compareDocumentPosition(current) & Node.DOCUMENT_POSITION_PRECEDING);
    var atEnd = current === last || current === body || !current ||
      !!(last.compareDocumentPosition(current) & Node.DOCUMENT_POSITION_FOLLOWING);
    if (event.shiftKey && atStart) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && atEnd) {
      event.preventDefault();
      first.focus();
    }
  });

  /* ---------- start ---------- */

  function ready() {
    if (readyPosted) return;
    readyPosted = true;
    body.setAttribute("data-ready", "true");
    postToHost("ready");
  }

  // "ready" once the home view has its content (or failed to get it); the search box is
  // usable from the start, so a slow answer never holds the panel back more than 3 s.
  window.setTimeout(ready, 3000);
  loadHome().then(ready, ready);
})();
