// Section editor: Ctrl+S saves, and leaving with unsaved changes asks first.
(function () {
  "use strict";
  const form = document.getElementById("section-form");
  if (!form) return;
  let dirty = false;
  let submitting = false;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("change", () => { dirty = true; });
  form.addEventListener("submit", () => { submitting = true; });
  // drafts.js saves with fetch; when that fails the page stays and leaving must ask again.
  form.addEventListener("lanbitou:save-failed", () => { submitting = false; });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      submitting = true;
      form.requestSubmit();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();

// The editor library names its toolbar buttons in English ("bold", "heading 2") without
// asking for a translation: give every button a tooltip and screen-reader label in the UI
// language, from the JavaScript catalog (manuals/locale/*/djangojs.po). The library
// redraws parts of the toolbar (the block-type picker follows the cursor), so labels are
// applied again whenever the toolbar changes.
(function () {
  "use strict";
  const _ = window.gettext || ((text) => text);
  const format = window.interpolate || ((text, args) => text.replace("%s", args[0]));
  // Keyed by the library's own (lower-cased) title.
  const LABELS = {
    "paragraph": _("Paragraph"),
    "unordered list": _("Bulleted list"),
    "ordered list": _("Numbered list"),
    "list properties": _("List properties"),
    "blockquote": _("Quotation"),
    "horizontal rule": _("Horizontal line"),
    "figure": _("Insert picture"),
    "bold": _("Bold"),
    "italic": _("Italic"),
    "underline": _("Underline"),
    "strike": _("Strikethrough"),
    "subscript": _("Subscript"),
    "superscript": _("Superscript"),
    "code": _("Code"),
    "code block": _("Code block"),
    "insert link": _("Insert link"),
    "remove link": _("Remove link"),
    "insert table": _("Insert table"),
    "add column": _("Add column"),
    "delete column": _("Delete column"),
    "add row": _("Add row"),
    "delete row": _("Delete row"),
    "merge cells": _("Merge cells"),
    "split cell": _("Split cell"),
    "toggle header cell": _("Header cell on/off"),
    "delete table": _("Delete table"),
    "undo": _("Undo"),
    "redo": _("Redo"),
    "edit html": _("Edit HTML"),
    "toggle fullscreen": _("Toggle fullscreen"),
  };
  const HEADING = /^heading (\d)$/i;

  function labelFor(title) {
    const key = (title || "").trim().toLowerCase();
    if (LABELS[key]) return LABELS[key];
    const heading = HEADING.exec(key);
    return heading ? format(_("Heading %s"), [heading[1]]) : null;
  }

  function relabel(root) {
    root.querySelectorAll(".prose-menubar__button").forEach((button) => {
      // Remember the library's title: ours replaces it, and may be asked for again.
      if (!button.dataset.libraryTitle) button.dataset.libraryTitle = button.title;
      const label = labelFor(button.dataset.libraryTitle);
      if (label && button.title !== label) {
        button.title = label;
        button.setAttribute("aria-label", label);
      }
    });
    root.querySelectorAll(".prose-menubar__option[data-name]").forEach((option) => {
      const text = option.firstElementChild || option;
      const name = option.dataset.name;
      const heading = /^heading(\d)$/.exec(name);
      const label = heading ? format(_("Heading %s"), [heading[1]]) : labelFor(name);
      if (label && text.textContent !== label) text.textContent = label;
    });
  }

  function watch() {
    document.querySelectorAll(".editor").forEach((editor) => {
      relabel(editor);
      new MutationObserver(() => relabel(editor)).observe(editor, {
        childList: true,
        subtree: true,
      });
    });
  }

  // The in-place editor (inline-edit.js) creates editors later: it asks for labels here.
  window.lanbitouEditorLabels = (root) => {
    relabel(root);
    new MutationObserver(() => relabel(root)).observe(root, { childList: true, subtree: true });
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
