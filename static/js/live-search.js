// A search form that searches as one types (form[data-live-search], catalog/partials/search_page.html) is swapped
// whole with its results, so each history entry holds the controls of its own URL. An answer that would replace the
// box the user is still typing in is dropped instead: more was typed since it was asked for, or an input method
// (pinyin) is still composing. The search that the typing starts brings the fresh answer; swapping the stale one
// would eat those keystrokes or break the composition.
(function () {
  var composing = false;
  document.addEventListener("compositionstart", function () { composing = true; });
  document.addEventListener("compositionend", function () { composing = false; });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var asked = event.detail.requestConfig;
    var form = asked && asked.elt;
    var box = document.activeElement;
    if (!form || !form.matches || !form.matches("form[data-live-search]")) return;
    if (!box || box.form !== form || box.type !== "search") return;
    if (composing || asked.formData.get(box.name) !== box.value) event.detail.shouldSwap = false;
  });
})();

// A pager link is swapped away with the results it pages, which would drop the keyboard focus to <body>: it moves to
// the new page's result count instead (tabindex=-1 in catalog/partials/results.html), where Tab goes on to the cards.
// The pager's own swap brings the results' top into view, so focusing must not scroll.
document.addEventListener("htmx:afterSettle", function (event) {
  var link = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!link || !link.closest || !link.closest(".pager")) return;
  var count = document.querySelector("#results .result-count");
  if (count) count.focus({ preventScroll: true });
});
