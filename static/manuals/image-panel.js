// Image library panel: upload into the manual's library and insert pictures into the
// section editor (django-prose-editor / Tiptap, or a plain textarea as a fallback).
(function () {
  "use strict";

  const editors = new Map(); // textarea id -> Tiptap editor
  let lastEditor = null;

  document.addEventListener("prose-editor:ready", (event) => {
    const { editor, textarea } = event.detail;
    editors.set(textarea.id, editor);
    lastEditor = editor;
    editor.on("focus", () => { lastEditor = editor; });
  });

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text || "";
    return div.innerHTML.replace(/"/g, "&quot;");
  }

  function figureHtml(image, layout) {
    const caption = image.caption || "";
    const img = `<img src="${image.url}" data-image-id="${image.id}" alt="${escapeHtml(caption)}"` +
      ` width="${image.width}" height="${image.height}">`;
    if (!layout && !caption) return img;
    const cls = layout ? ` class="layout-${layout}"` : "";
    const figcaption = caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : "";
    return `<figure${cls}>${img}${figcaption}</figure>`;
  }

  function targetEditor(panel) {
    const id = panel.dataset.editorId;
    if (id && editors.has(id)) return editors.get(id);
    // The editor may have started before this script: Tiptap hangs itself on its DOM node.
    const textarea = id && document.getElementById(id);
    const scope = (textarea && textarea.closest(".prose-editor")) || document;
    const node = [...scope.querySelectorAll(".ProseMirror")].find((n) => n.editor);
    if (node) return node.editor;
    return lastEditor;
  }

  function insert(panel, html) {
    const editor = targetEditor(panel);
    if (editor) {
      editor.chain().focus().insertContent(html).run();
      return true;
    }
    const textarea = panel.dataset.editorId && document.getElementById(panel.dataset.editorId);
    if (textarea) {
      const at = textarea.selectionStart ?? textarea.value.length;
      textarea.value = textarea.value.slice(0, at) + html + textarea.value.slice(at);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      return true;
    }
    return false;
  }

  function setup(panel) {
    const grid = panel.querySelector("[data-image-grid]");
    const empty = panel.querySelector("[data-image-empty]");
    const status = panel.querySelector("[data-image-status]");
    const strings = panel.querySelector("[data-image-strings]").dataset;
    const form = panel.querySelector("[data-image-upload]");
    const field = (name) => form.querySelector(`[data-field="${name}"]`);

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }

    function layout() {
      const checked = panel.querySelector("[data-layout]:checked");
      return checked ? checked.value : "";
    }

    function tile(image) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "image-panel-tile";
      button.dataset.imageId = image.id;
      button.title = `${strings.insert}: ${image.caption || image.name || ""}`;
      const img = document.createElement("img");
      img.src = image.thumb_url;
      img.alt = image.caption || image.name || "";
      img.loading = "lazy";
      button.appendChild(img);
      button.addEventListener("click", () => {
        if (insert(panel, figureHtml(image, layout()))) say(strings.inserted);
        else say(strings.noEditor, true);
      });
      li.appendChild(button);
      return li;
    }

    function show(images) {
      grid.replaceChildren(...images.map(tile));
      empty.hidden = images.length > 0;
    }

    // Pictures pasted into the editor (static/js/paste.js) join the library shown here.
    document.addEventListener("lanbitou:image-added", (event) => {
      if (grid.querySelector(`[data-image-id="${event.detail.id}"]`)) return;
      grid.prepend(tile(event.detail));
      empty.hidden = true;
    });

    fetch(panel.dataset.libraryUrl, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { images: [] }))
      .then((data) => show(data.images));

    panel.querySelectorAll("[data-layout]").forEach((radio) => {
      radio.addEventListener("change", () => {
        panel.querySelectorAll("[data-layout]").forEach((r) => { r.checked = r === radio; });
      });
    });

    const button = form.querySelector("[data-upload-button]");
    button.addEventListener("click", async () => {
      const file = field("file").files[0];
      if (!file) { say(strings.choose, true); return; }
      const body = new FormData();
      body.append("file", file);
      body.append("caption", field("caption").value);
      body.append("purpose", field("purpose").value);
      say(strings.loading);
      button.disabled = true;
      try {
        const response = await fetch(panel.dataset.uploadUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": strings.csrf, "X-Requested-With": "fetch" },
        });
        let data = {};
        try { data = await response.json(); } catch (e) { data = {}; }
        if (!response.ok) {
          say(data.error || strings.failed, true);
          return;
        }
        grid.prepend(tile(data));
        empty.hidden = true;
        field("file").value = "";
        field("caption").value = "";
        say(strings.uploaded);
      } catch (e) {
        say(strings.failed, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  function init() {
    document.querySelectorAll("[data-image-panel]").forEach((panel) => {
      if (!panel.dataset.ready) {
        panel.dataset.ready = "1";
        setup(panel);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.LanbitouImagePanel = { init, figureHtml };
})();
