// Outline sidebar: collapse/expand, drag-and-drop and keyboard moves of whole subtrees.
(function () {
  "use strict";
  const outline = document.getElementById("outline");
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  if (!outline) return;
  const manualId = outline.dataset.manual;
  const editable = outline.dataset.editable === "1";
  const storageKey = "lanbitou.collapsed." + manualId;
  const collapsed = new Set(JSON.parse(localStorage.getItem(storageKey) || "[]"));

  // A long manual's page comes with the chapters and the path to the current section;
  // a closed branch (data-lazy) brings its rows when opened, and reveal(id) brings the
  // rows down to any section (the one in view while scrolling the document).
  const pending = new Map();
  function loadBranch(id) {
    if (!pending.has(id)) {
      const url = outline.dataset.branchUrl + id + "/outline/";
      pending.set(id, fetch(url, { credentials: "same-origin" }).then((response) => {
        if (!response.ok) return;
        return response.text().then((html) => {
          const parsed = new DOMParser().parseFromString(html, "text/html");
          parsed.querySelectorAll("ul[data-parent]").forEach((group) => {
            const item = outline.querySelector('li[data-id="' + group.dataset.parent + '"]');
            if (!item || item.querySelector(":scope > ul")) return;
            item.appendChild(document.importNode(group, true));
            delete item.dataset.lazy;
            if (item.dataset.id !== String(id)) item.setAttribute("aria-expanded", "true");
          });
          // Others that mark rows (find's hit counts) mark the new ones too.
          outline.dispatchEvent(new CustomEvent("outline:rows"));
        });
      }).finally(() => pending.delete(id)));
    }
    return pending.get(id);
  }
  function reveal(id) {
    const item = outline.querySelector('li[data-id="' + id + '"]');
    if (item && !item.dataset.lazy) return Promise.resolve(item);
    return loadBranch(id).then(() => outline.querySelector('li[data-id="' + id + '"]'));
  }
  window.lanbitouOutline = { reveal };

  function setExpanded(item, expanded) {
    if (expanded && item.dataset.lazy) {
      loadBranch(item.dataset.id).then(() => item.setAttribute("aria-expanded", "true"));
    }
    item.setAttribute("aria-expanded", expanded ? "true" : "false");
    if (expanded) collapsed.delete(item.dataset.id);
    else collapsed.add(item.dataset.id);
    localStorage.setItem(storageKey, JSON.stringify([...collapsed]));
  }

  outline.querySelectorAll("li[aria-expanded]").forEach((item) => {
    // Keep the path to the current section open even if it was collapsed before.
    if (collapsed.has(item.dataset.id) && !item.querySelector(".current")) {
      item.setAttribute("aria-expanded", "false");
    }
  });
  outline.addEventListener("click", (event) => {
    const toggle = event.target.closest(".toggle");
    if (!toggle) return;
    const item = toggle.closest("li");
    setExpanded(item, item.getAttribute("aria-expanded") !== "true");
  });
  const current = outline.querySelector(".current");
  if (current) current.scrollIntoView({ block: "center" });

  // Keyboard: arrows walk the visible outline, Left/Right collapse/expand,
  // Alt+Shift+arrows move the focused section (with its subtree).
  function visibleLinks() {
    return [...outline.querySelectorAll(".outline-row > a")].filter((a) => a.offsetParent !== null);
  }
  outline.addEventListener("keydown", (event) => {
    const link = event.target.closest(".outline-row > a");
    if (!link) return;
    const item = link.closest("li");
    if (event.altKey && event.shiftKey && editable) {
      const direction = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "outdent", ArrowRight: "indent" }[event.key];
      if (direction) {
        event.preventDefault();
        post(item.dataset.id, "shift/" + direction + "/", {}).then(() => reloadFocusing(item.dataset.id));
      }
      return;
    }
    const links = visibleLinks();
    const index = links.indexOf(link);
    if (event.key === "ArrowDown" && index < links.length - 1) { event.preventDefault(); links[index + 1].focus(); }
    if (event.key === "ArrowUp" && index > 0) { event.preventDefault(); links[index - 1].focus(); }
    if (event.key === "ArrowLeft" && item.getAttribute("aria-expanded") === "true") { event.preventDefault(); setExpanded(item, false); }
    if (event.key === "ArrowRight" && item.getAttribute("aria-expanded") === "false") { event.preventDefault(); setExpanded(item, true); }
  });

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function post(sectionId, action, data) {
    const body = new URLSearchParams(data);
    return fetch(outline.dataset.moveUrl + sectionId + "/" + action, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body,
      credentials: "same-origin",
    }).then((response) => response.json().then((json) => {
      if (!json.ok) {
        showError(json.error || outline.dataset.msgFailed);
        throw new Error(json.error);
      }
      return json;
    }));
  }
  function showError(text) {
    let box = document.getElementById("outline-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "outline-error";
      box.className = "message error";
      box.setAttribute("role", "alert");
      outline.before(box);
    }
    box.textContent = text;
  }
  function reloadFocusing(sectionId) {
    sessionStorage.setItem("lanbitou.focus", sectionId);
    window.location.reload();
  }
  const focusId = sessionStorage.getItem("lanbitou.focus");
  if (focusId) {
    sessionStorage.removeItem("lanbitou.focus");
    const link = outline.querySelector('li[data-id="' + focusId + '"] > .outline-row > a');
    if (link) link.focus();
  }

  if (!editable) return;
  // Drag and drop: the top quarter of a row drops before it, the bottom quarter after it,
  // the middle makes the dragged section its last child.
  let dragged = null;
  function zone(row, event) {
    const rect = row.getBoundingClientRect();
    const y = event.clientY - rect.top;
    if (y < rect.height * 0.25) return "left";
    if (y > rect.height * 0.75) return "right";
    return "last-child";
  }
  function clearMarks() {
    outline.querySelectorAll(".drop-left,.drop-right,.drop-last-child").forEach((el) =>
      el.classList.remove("drop-left", "drop-right", "drop-last-child"));
  }
  outline.addEventListener("dragstart", (event) => {
    const item = event.target.closest("li[data-id]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });
  outline.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearMarks();
  });
  outline.addEventListener("dragover", (event) => {
    const row = event.target.closest(".outline-row");
    if (!row || !dragged) return;
    const target = row.closest("li");
    if (dragged.contains(target)) return;
    event.preventDefault();
    clearMarks();
    row.classList.add("drop-" + zone(row, event));
  });
  outline.addEventListener("drop", (event) => {
    const row = event.target.closest(".outline-row");
    if (!row || !dragged) return;
    event.preventDefault();
    const target = row.closest("li");
    const position = zone(row, event);
    const movedId = dragged.dataset.id;
    clearMarks();
    if (dragged.contains(target)) return;
    post(movedId, "move/", { target: target.dataset.id, position }).then(() => reloadFocusing(movedId));
  });
})();
