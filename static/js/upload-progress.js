// Shows how far an htmx upload has gone in the <progress data-upload-progress> bars of the form
// being sent (templates/files/macros.html); the bars hide again when the request ends.
(function () {
  function bars(event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    return form ? form.querySelectorAll("progress[data-upload-progress]") : [];
  }
  document.addEventListener("htmx:xhr:progress", function (event) {
    if (!event.detail.lengthComputable) return;
    bars(event).forEach(function (bar) {
      bar.hidden = false;
      bar.max = event.detail.total;
      bar.value = event.detail.loaded;
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    bars(event).forEach(function (bar) { bar.hidden = true; bar.value = 0; });
  });
})();
