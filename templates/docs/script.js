/* Docs pages: search, menu, theme, copy buttons. No network, no dependencies. */
(function () {
  "use strict";
  var KEY = "baas-docs-theme";
  var root = document.documentElement;
  var body = document.body;
  var nav = document.getElementById("nav");
  var menu = document.getElementById("menu");
  var input = document.getElementById("search");
  var count = document.getElementById("search-count");
  var toggle = document.getElementById("theme");
  var narrow = window.matchMedia("(max-width: 860px)");
  var dark = window.matchMedia("(prefers-color-scheme: dark)");

  function theme() {
    return root.getAttribute("data-theme") || (dark.matches ? "dark" : "light");
  }
  function showTheme() {
    if (toggle) toggle.setAttribute("aria-pressed", theme() === "dark" ? "true" : "false");
  }
  if (toggle) {
    toggle.addEventListener("click", function () {
      var next = theme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(KEY, next); } catch (e) { /* storage off: theme lasts this visit */ }
      showTheme();
    });
    showTheme();
  }

  function openNav(open) {
    body.classList.toggle("nav-open", open);
    if (menu) menu.setAttribute("aria-expanded", open ? "true" : "false");
  }
  if (menu) menu.addEventListener("click", function () { openNav(!body.classList.contains("nav-open")); });
  if (!nav) return;
  nav.addEventListener("click", function (event) {
    if (event.target.closest("a") && narrow.matches) openNav(false);
  });

  var items = Array.prototype.slice.call(nav.querySelectorAll("li[data-search]"));
  var groups = Array.prototype.slice.call(nav.querySelectorAll("details.group"));
  var opened = groups.map(function (g) { return g.open; });
  function escapeRe(text) { return text.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&"); }
  items.forEach(function (li) {
    var path = li.getAttribute("data-path");
    if (path) li.pathRe = new RegExp("^" + path.split(/\{[^}]*\}/).map(escapeRe).join("[^/]+") + "/?$", "i");
  });
  function matches(li, terms, query) {
    var text = li.getAttribute("data-search");
    if (terms.every(function (t) { return text.indexOf(t) >= 0; })) return true;
    return query.charAt(0) === "/" && !!li.pathRe && li.pathRe.test(query.split("?")[0]);
  }
  function search() {
    var query = input.value.trim();
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (li) {
      var ok = !terms.length || matches(li, terms, query);
      li.hidden = !ok;
      if (ok && terms.length) shown += 1;
    });
    groups.forEach(function (g, i) {
      var any = !!g.querySelector("li[data-search]:not([hidden])");
      g.hidden = terms.length > 0 && !any;
      g.open = terms.length ? any : opened[i];
    });
    nav.classList.toggle("searching", terms.length > 0);
    count.hidden = !terms.length;
    count.textContent = shown === 1 ? "1 match" : shown + " matches";
    if (terms.length && narrow.matches) openNav(true);
  }
  if (input) {
    input.addEventListener("input", search);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        var first = nav.querySelector("li[data-search]:not([hidden]) a");
        if (first) {
          location.hash = first.getAttribute("href");
          openNav(false);
        }
        event.preventDefault();
      } else if (event.key === "Escape") {
        input.value = "";
        search();
        openNav(false);
      }
    });
    document.addEventListener("keydown", function (event) {
      var active = document.activeElement;
      if (event.key === "/" && active !== input && !/^(INPUT|TEXTAREA|SELECT)$/.test(active ? active.tagName : "")) {
        event.preventDefault();
        input.focus();
      }
    });
  }

  function markCurrent() {
    var old = nav.querySelector("a.current");
    if (old) old.classList.remove("current");
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) return;
    var link = nav.querySelector('a[href="#' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
    if (!link) return;
    link.classList.add("current");
    var group = link.closest("details");
    if (group) group.open = true;
    if (!narrow.matches && link.scrollIntoView) link.scrollIntoView({ block: "nearest" });
  }
  window.addEventListener("hashchange", markCurrent);
  markCurrent();

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    body.removeChild(area);
    return ok;
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) return;
    var pre = button.closest(".snippet").querySelector("pre");
    copy(pre.textContent).then(function (ok) {
      button.textContent = ok ? "Copied" : "Select and copy";
      window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
    });
  });
})();
