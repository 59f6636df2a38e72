// The import preview while the worker analyses or imports: poll the status, show the
// progress, reload when the phase changes.
(function () {
  const box = document.getElementById("import-job");
  if (!box || !["analysing", "queued", "running"].includes(box.dataset.status)) return;
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        const bar = document.getElementById("import-progress");
        const phase = document.getElementById("import-phase");
        if (bar) bar.value = data.percent;
        if (phase) {
          phase.textContent = data.status_label +
            (data.label ? " · " + data.label + (data.total ? " " + data.done + "/" + data.total : "") : "");
        }
        if (data.status !== box.dataset.status) { window.location.reload(); return; }
        setTimeout(poll, 1500);
      })
      .catch(() => setTimeout(poll, 5000));
  }
  setTimeout(poll, 1000);
})();
