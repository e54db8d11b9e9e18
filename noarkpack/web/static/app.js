/* noarkpack serve: the little script of the pages (no framework, nothing from outside).
   - select[data-autosubmit]: submits its form on change (the language switch).
   - #run[data-active=true]: follows the run's server-sent events (/runs/{id}/events): the progress bar, the
     progress line and the log; reloads the page when the run ends, so the result shows as the server renders it.
   - table.data[data-sortable]: sorts a small table on the client when a column header is clicked (for tables
     that page on the server, the server sorts).
   - form[data-confirm]: asks before submitting.
   - the element the address's #fragment names (an EPJ dokument of an NHA package's tree): the <details> around
     it are opened and it is scrolled to, on load and when the fragment changes. */
"use strict";

(function () {
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  function followRun() {
    var box = document.getElementById("run");
    if (!box || box.dataset.active !== "true" || !window.EventSource) { return; }
    var bar = document.getElementById("run-bar");
    var line = document.getElementById("run-progress");
    var state = document.getElementById("run-state");
    var log = document.getElementById("run-log");
    var from = parseInt(box.dataset.logFrom || "0", 10);
    var source = new EventSource("/runs/" + encodeURIComponent(box.dataset.run) + "/events?from=" + from);
    source.addEventListener("progress", function (ev) {
      var s = JSON.parse(ev.data);
      if (s.total) { bar.max = s.total; bar.value = s.done || 0; }
      else { bar.removeAttribute("value"); }
      if (s.text) { line.textContent = s.text; }
      state.textContent = s.state_label;
      (s.log || []).forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        log.appendChild(li);
      });
      box.dataset.logFrom = String(s.log_from + (s.log || []).length);
    });
    source.addEventListener("end", function () {
      source.close();
      window.location.reload();
    });
    source.onerror = function () {
      /* the browser reconnects by itself (retry: 2000); the page stays as it is meanwhile */
    };
  }

  function sortable() {
    document.querySelectorAll("table.data[data-sortable]").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th, index) {
        th.tabIndex = 0;
        th.classList.add("sortable");
        function sort() {
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var up = th.getAttribute("aria-sort") !== "ascending";
          rows.sort(function (a, b) {
            var x = a.cells[index].textContent.trim(), y = b.cells[index].textContent.trim();
            var nx = parseFloat(x), ny = parseFloat(y);
            var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, document.documentElement.lang);
            return up ? c : -c;
          });
          table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", up ? "ascending" : "descending");
          rows.forEach(function (r) { body.appendChild(r); });
        }
        th.addEventListener("click", sort);
        th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
      });
    });
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.dataset.confirm)) { e.preventDefault(); }
      });
    });
  }

  function openTarget() {
    var id = decodeURIComponent((window.location.hash || "").slice(1));
    var el = id && document.getElementById(id);
    if (!el) { return; }
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
    el.scrollIntoView();
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmit();
    followRun();
    sortable();
    confirmForms();
    openTarget();
  });
  window.addEventListener("hashchange", openTarget);
})();
