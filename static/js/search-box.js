// The search box in the top bar: "/" or Ctrl+K (⌘K) jumps to it from anywhere on the page.
(function () {
  "use strict";
  function typingInField(target) {
    if (!target) return false;
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (event) {
    const box = document.getElementById("site-search");
    if (!box) return;
    const ctrlK = (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
    const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
      !typingInField(event.target);
    if (ctrlK || slash) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && document.activeElement === box) {
      box.blur();
    }
  });
})();
