// Keyboard shortcuts on the reviewer's queue pages (no dependencies; the pages work without it).
// Rows are the children of the element marked data-kb-rows (table rows, or listing articles):
//   j / k   next / previous row (the row takes focus and shows the focus ring)
//   x       tick or untick the row's checkbox (bulk approval)
//   o, Enter on a row   open the row: its [data-kb-open] or first link, else focus its first button
//   /       focus the search box ([data-kb-search])
// Keys are ignored while typing in a field, or with Ctrl/Alt/Meta held.
(function () {
  "use strict";

  function rows() {
    var box = document.querySelector("[data-kb-rows]");
    if (!box) return [];
    return Array.prototype.slice.call(box.querySelectorAll(":scope > tbody > tr, :scope > article"));
  }

  function currentRow(list) {
    var active = document.activeElement;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === active || list[i].contains(active)) return i;
    }
    return -1;
  }

  function focusRow(row) {
    if (!row.hasAttribute("tabindex")) row.setAttribute("tabindex", "-1");
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    var tag = target.tagName;
    if (tag === "INPUT") return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function open(row) {
    var link = row.querySelector("[data-kb-open]") || row.querySelector("a[href]");
    if (link) { link.click(); return; }
    var button = row.querySelector("button");
    if (button) button.focus();
  }

  function move(list, step) {
    if (!list.length) return;
    var at = currentRow(list);
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    focusRow(list[next]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    var list = rows();
    var at = currentRow(list);
    var row = at < 0 ? null : list[at];
    if (event.key === "j") {
      move(list, 1);
    } else if (event.key === "k") {
      move(list, -1);
    } else if (event.key === "x" && row) {
      var box = row.querySelector("input[type=checkbox]");
      if (!box) return;
      box.checked = !box.checked;
    } else if ((event.key === "o" && row) || (event.key === "Enter" && row && event.target === row)) {
      open(row);
    } else if (event.key === "/") {
      var search = document.querySelector("[data-kb-search]");
      if (!search) return;
      search.focus();
      search.select();
    } else {
      return;
    }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var hint = document.querySelector("[data-kb-hint]");
    if (hint && document.querySelector("[data-kb-rows]")) hint.hidden = false;
  });
})();
