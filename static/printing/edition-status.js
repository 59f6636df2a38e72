// Polls an edition's status until it is done or failed.
(function () {
  "use strict";
  const box = document.getElementById("edition-status");
  if (!box) return;
  const field = (name) => box.querySelector(`[data-field="${name}"]`);
  function show(data) {
    field("status_label").textContent = data.status_label;
    field("note").textContent = data.note || "";
    field("progress").value = data.progress;
    field("reason").textContent = data.reason || "";
    if (data.status === "done") {
      field("done").hidden = false;
      field("download").href = data.download_url;
      field("summary").textContent = data.summary;
    }
    box.dataset.status = data.status;
  }
  async function poll() {
    if (box.dataset.status === "done" || box.dataset.status === "failed") return;
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (response.ok) show(await response.json());
    } catch (e) { /* network hiccup: try again */ }
    setTimeout(poll, 1500);
  }
  setTimeout(poll, 1000);
})();
