// Page chrome: the phone menu and outline drawer, and the `?` overlay of every shortcut.
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-toggle-class]");
    if (!toggle) return;
    const name = toggle.dataset.toggleClass;
    const on = document.body.classList.toggle(name);
    toggle.setAttribute("aria-expanded", on ? "true" : "false");
  });
  const help = document.getElementById("shortcuts");
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") document.body.classList.remove("outline-open", "menu-open");
    if (!help || event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable=true]")) return;
    event.preventDefault();
    if (help.open) help.close();
    else help.showModal();
  });
  if (help) {
    help.querySelector("[data-close]").addEventListener("click", () => help.close());
    document.querySelectorAll("[data-show-shortcuts]").forEach((button) =>
      button.addEventListener("click", () => help.showModal()));
  }
})();
