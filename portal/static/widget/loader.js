/* The help center's "Knowledge Base" widget for other sites (issue 16).
   Embed: <script src="https://HELP-SITE/widget.js" async data-position="bottom-left"
   data-context="billing" data-user-token="..."></script>
   Adds one global, window.PortalKnowledgeBase. The panel is an iframe served by the help
   center from its own origin; the two talk through postMessage with exact origin checks. */
(function () {
  "use strict";
  if (window.PortalKnowledgeBase) return;

  var script = document.currentScript ||
    document.querySelector('script[src*="/widget.js"]');
  if (!script) return;
  var PORTAL = new URL(script.src, location.href).origin;
  var position = script.getAttribute("data-position") === "bottom-right" ?
    "bottom-right" : "bottom-left";
  var context = script.getAttribute("data-context") || "";
  var userToken = script.getAttribute("data-user-token") || "";
  var side = position === "bottom-right" ? "right" : "left";

  var host, launcher, panel, frame, ready = false, open = false;

  /* Host CSS (`* { all: unset }`, huge fonts, transforms) reaches the host element only,
     and inline !important declarations win over it. */
  var HOST_STYLE = {
    all: "initial", display: "block", position: "fixed", bottom: "20px",
    left: side === "left" ? "20px" : "auto", right: side === "right" ? "20px" : "auto",
    top: "auto", width: "auto", height: "auto", margin: "0", padding: "0", border: "0",
    "z-index": "2147483000", transform: "none", filter: "none", contain: "none",
    perspective: "none", "font-size": "16px", "line-height": "normal", visibility: "visible",
    opacity: "1", "pointer-events": "auto", "clip-path": "none", overflow: "visible"
  };

  var CSS =
    ":host{all:initial}" +
    ".kb{font:600 16px/1.25 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;" +
    "color:#1d2733}" +
    ".launcher{all:initial;box-sizing:border-box;display:flex;align-items:center;" +
    "gap:8px;height:52px;padding:0 18px 0 14px;border-radius:26px;background:#1f5fae;" +
    "color:#fff;font:inherit;cursor:pointer;box-shadow:0 4px 14px rgba(16,24,40,.28);" +
    "white-space:nowrap}" +
    ".launcher:hover{background:#164a89}" +
    ".launcher:focus-visible{outline:3px solid #1f5fae;outline-offset:3px;" +
    "box-shadow:0 0 0 3px #fff}" +
    ".launcher svg{width:24px;height:24px;flex:none;display:block}" +
    ".panel{box-sizing:border-box;position:fixed;bottom:88px;" + side + ":20px;" +
    "width:380px;height:600px;max-height:calc(100vh - 100px);background:#fff;" +
    "border:1px solid #c9d2dc;border-radius:12px;overflow:hidden;" +
    "box-shadow:0 12px 40px rgba(16,24,40,.3)}" +
    ".panel[hidden]{display:none}" +
    "iframe{display:block;border:0;width:100%;height:100%;background:#fff}" +
    "@media (max-width:600px){.panel{top:0;right:0;bottom:0;left:0;width:auto;" +
    "height:auto;max-height:none;border:0;border-radius:0}}" +
    "@media (prefers-color-scheme:dark){.panel,iframe{background:#161f2c;" +
    "border-color:#2f3b4c}}";

  var SVG = "http://www.w3.org/2000/svg";
  var ICON = [["circle", { cx: 12, cy: 12, r: 10, fill: "none", stroke: "currentColor",
    "stroke-width": 2 }], ["path", { d: "M9.2 9.3a2.9 2.9 0 1 1 4 2.7c-.8.4-1.2 1-1.2 1.9v.4",
    fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round" }],
  ["circle", { cx: 12, cy: 17.4, r: 1.2, fill: "currentColor" }]];

  function svg(name, attributes) {
    var node = document.createElementNS(SVG, name);
    for (var key in attributes) node.setAttribute(key, attributes[key]);
    return node;
  }

  function icon() {  /* built node by node: no innerHTML (hosts may enforce Trusted Types) */
    var node = svg("svg", { viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" });
    ICON.forEach(function (shape) { node.appendChild(svg(shape[0], shape[1])); });
    return node;
  }

  function post(message) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, PORTAL);
  }

  function frameSrc() {
    return PORTAL + "/widget/frame?host=" + encodeURIComponent(location.origin) +
      "&context=" + encodeURIComponent(context) + "&position=" + position;
  }

  function setState(state) { host.setAttribute("data-state", state); }

  function openPanel() {
    if (!host) return;
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = "Knowledge Base";
      frame.src = frameSrc();
      panel.appendChild(frame);
      setState("loading");
    }
    open = true;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    host.setAttribute("data-open", "true");
    frame.focus();
    if (ready) post({ source: "portal-kb-host", type: "focus" });
  }

  function closePanel() {
    if (!host || !open) return;
    open = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    host.removeAttribute("data-open");
    launcher.focus();
  }

  function onMessage(event) {
    if (!frame || event.origin !== PORTAL || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.source !== "portal-kb") return;
    if (data.type === "ready") {
      ready = true;
      setState("ready");
      if (userToken) {
        post({ source: "portal-kb-host", type: "identify", userToken: userToken });
      }
      if (open) post({ source: "portal-kb-host", type: "focus" });
    } else if (data.type === "close") {
      closePanel();
    }
  }

  function build() {
    if (host || !document.body) return;
    host = document.createElement("div");
    host.setAttribute("data-portal-kb", "");
    for (var name in HOST_STYLE) host.style.setProperty(name, HOST_STYLE[name], "important");
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    /* A constructed sheet where supported: a host's CSP style-src does not block it. */
    var style = null;
    try {
      if (!("adoptedStyleSheets" in root)) throw new Error("no constructed sheets");
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      style = document.createElement("style");
      style.textContent = CSS;
    }
    var box = document.createElement("div");
    box.className = "kb";
    panel = document.createElement("div");
    panel.className = "panel";
    panel.id = "portal-kb-panel";
    panel.hidden = true;
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.setAttribute("aria-label", "Knowledge Base");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", panel.id);
    var label = document.createElement("span");
    label.textContent = "Knowledge Base";
    launcher.appendChild(icon());
    launcher.appendChild(label);
    launcher.addEventListener("click", function () { if (open) closePanel(); else openPanel(); });
    box.appendChild(panel);
    box.appendChild(launcher);
    if (style) root.appendChild(style);
    root.appendChild(box);
    document.body.appendChild(host);
    setState("idle");
  }

  window.addEventListener("message", onMessage);
  document.addEventListener("keydown", function (event) {
    if (open && (event.key === "Escape" || event.key === "Esc")) closePanel();
  });

  window.PortalKnowledgeBase = Object.freeze({
    version: "1.0.0",
    open: function () { build(); openPanel(); },
    close: closePanel,
    toggle: function () { build(); if (open) closePanel(); else openPanel(); }
  });

  if (document.body) build();
  else document.addEventListener("DOMContentLoaded", build);
})();
