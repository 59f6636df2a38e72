// Edit in place on the continuous document: click a section's heading or body (or press
// E on the section in view) to edit it right there with the page's WYSIWYG editor; Ctrl+S
// or 保存 saves through the JSON endpoint without a reload (the version is checked: a
// conflict shows both versions inline), Esc leaves. A / Shift+A add a section below or as
// a child, in place. Like the edit page, the open editor keeps the writer's draft and offers
// it again (static/js/drafts.js), a Save that does not get through keeps the text and says
// what to do, and pasted pictures and headings go through static/js/paste.js.
(function () {
  "use strict";
  const doc = document.getElementById("document");
  const template = document.getElementById("inline-editor");
  const msgs = document.getElementById("inline-messages");
  if (!doc || !template || doc.dataset.editable !== "1") return;
  const m = msgs.dataset;
  let open = null; // { section, form, editor, dirty, keeper, saving }
  const drafts = window.lanbitouDrafts;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function post(url, data) {
    return fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: new URLSearchParams(data),
      credentials: "same-origin",
    }).then((response) => response.json().then((json) => ({ status: response.status, json })));
  }
  function loadEditorModule() {
    return import(doc.dataset.editorModule);
  }

  function bodyHtml(section) {
    const body = section.querySelector(".doc-body");
    if (body.querySelector("[data-empty]")) return "";
    const copy = body.cloneNode(true);
    copy.querySelectorAll("mark.find-hit").forEach((mark) => mark.replaceWith(mark.textContent));
    return copy.innerHTML;
  }

  function edit(section) {
    if (open && open.section === section) return Promise.resolve(open);
    if (open && !leave()) return Promise.resolve(null);
    const form = template.content.firstElementChild.cloneNode(true);
    form.elements.title.value = section.querySelector(".doc-title").textContent;
    form.elements.kind.value = section.dataset.kind;
    form.elements.visibility.value = section.dataset.visibility;
    form.elements.version.value = section.dataset.version;
    const textarea = form.querySelector("textarea");
    textarea.id = "inline-body-" + section.dataset.section;
    textarea.value = bodyHtml(section);
    section.classList.add("editing");
    section.append(form);
    open = { section, form, editor: null, dirty: false, keeper: null, saving: false };
    const state = open;
    form.addEventListener("input", () => { state.dirty = true; });
    form.addEventListener("change", () => { state.dirty = true; });
    form.addEventListener("submit", (event) => { event.preventDefault(); save(); });
    form.querySelector("[data-action=cancel]").addEventListener("click", () => leave());
    return loadEditorModule().then((module) => module.createEditor(textarea)).then((editor) => {
      state.editor = editor;
      if (open !== state) { // closed while the editor loaded
        if (editor) editor.destroy();
        return null;
      }
      if (editor) editor.on("update", () => { state.dirty = true; });
      if (editor && window.lanbitouPaste) window.lanbitouPaste.attach(editor, textarea);
      if (drafts) state.keeper = drafts.keep(form, draftOptions(section));
      if (window.lanbitouEditorLabels) window.lanbitouEditorLabels(form);
      const area = form.querySelector(".ProseMirror");
      if (area) area.focus();
      return state;
    });
  }

  function sectionPath(section, rest) {
    return doc.dataset.sectionUrl + section.dataset.section + "/" + rest;
  }

  function draftOptions(section) {
    // Logging in again lands in this section's editor, which offers the draft too.
    const next = sectionPath(section, "edit/");
    return {
      url: sectionPath(section, "draft/"),
      user: doc.dataset.draftUser,
      every: doc.dataset.draftEvery,
      loginPath: doc.dataset.loginPath,
      loginUrl: doc.dataset.loginPath + "?next=" + encodeURIComponent(next),
    };
  }

  // ``how``: "saved" (the server deleted the draft), "discard" (the writer threw the text
  // away) or nothing (left unchanged: a draft offered and not chosen stays offered).
  function close(how) {
    if (!open) return;
    const keeper = open.keeper;
    if (keeper && how === "saved") keeper.saved();
    else if (keeper && how === "discard") keeper.discard();
    else if (keeper) keeper.stop();
    if (open.editor) open.editor.destroy();
    open.form.remove();
    open.section.classList.remove("editing");
    open = null;
  }

  function leave() {
    if (!open) return true;
    // A Save on its way may still come back with a conflict or a message to show here.
    if (open.saving) {
      status(m.msgSaving);
      return false;
    }
    if (open.dirty && !window.confirm(m.msgLeave)) return false;
    close(open.dirty ? "discard" : "");
    return true;
  }

  function status(text) {
    if (open) open.form.querySelector(".inline-status").textContent = text;
  }

  function contents(state) {
    const { form, editor } = state;
    return {
      title: form.elements.title.value,
      kind: form.elements.kind.value,
      visibility: form.elements.visibility.value,
      body: editor ? editor.getHTML() : form.querySelector("textarea").value,
    };
  }

  function changedSince(state, sent) {
    const now = contents(state);
    return Object.keys(now).some((key) => now[key] !== sent[key]);
  }

  async function save(version) {
    if (!open || open.saving) return;
    const state = open;
    const { section, form, keeper } = state;
    if (version) form.elements.version.value = version;
    const data = { ...contents(state), version: form.elements.version.value };
    state.saving = true;
    status(m.msgSaving);
    try {
      if (keeper) await keeper.hold();
      let response = null;
      try {
        response = await fetch(sectionPath(section, "save/"), {
          method: "POST",
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          body: new URLSearchParams(data),
          credentials: "same-origin",
        });
      } catch (e) {
        response = null;
      }
      const failure = drafts && drafts.failureOf(response, draftOptions(section));
      if (failure || !response) {
        status(failure && keeper ? "" : m.msgFailed);
        if (failure && keeper) keeper.failed(failure);
        return;
      }
      let json = {};
      try {
        json = await response.json();
      } catch (e) {
        json = {};
      }
      const errors = form.querySelector(".inline-errors");
      errors.hidden = true;
      if (json.ok) {
        show(section, json);
        if (changedSince(state, data)) {
          // Typed on while the Save was on its way: stay in the editor on the new version,
          // and keep what is newer as a draft until it is saved too.
          form.elements.version.value = json.version;
          if (keeper) keeper.savedWithMore();
          status(m.msgSaved);
          return;
        }
        close("saved");
        flash(section, m.msgSaved);
        return;
      }
      if (keeper) keeper.resume();
      if (response.status === 409 && json.conflict) {
        showConflict(state, json.conflict);
        return;
      }
      errors.textContent = (json.errors || [m.msgFailed]).join(" ");
      errors.hidden = false;
      status("");
    } finally {
      state.saving = false;
    }
  }

  function show(section, saved) {
    section.dataset.version = saved.version;
    section.dataset.kind = saved.kind;
    section.dataset.visibility = saved.visibility;
    section.querySelector(".doc-title").textContent = saved.title;
    const kind = section.querySelector(".meta .badge[class*=kind-]");
    kind.className = "badge kind-" + saved.kind;
    kind.textContent = saved.kind_label;
    const vis = section.querySelector(".meta .badge[class*=vis-]");
    vis.className = "badge vis-" + saved.visibility;
    vis.textContent = saved.visibility_label;
    // Sanitised by the server (manuals.sanitize), like every body the page shows.
    section.querySelector(".doc-body").innerHTML = saved.body;
    const item = document.querySelector('#outline li[data-id="' + section.dataset.section + '"] > .outline-row > a');
    if (item) item.textContent = saved.title;
  }

  function flash(section, text) {
    section.querySelectorAll(".doc-saved").forEach((old) => old.remove());
    const note = document.createElement("span");
    note.className = "doc-saved muted small";
    note.setAttribute("role", "status");
    note.textContent = text;
    section.querySelector(".meta").append(note);
    setTimeout(() => note.remove(), 4000);
  }

  function showConflict(state, conflict) {
    const box = state.form.querySelector(".inline-conflict");
    box.hidden = false;
    box.replaceChildren();
    const h = document.createElement("h3");
    h.textContent = m.msgConflict;
    const p = document.createElement("p");
    p.textContent = m.msgConflictWho
      .replace("%(who)s", conflict.who)
      .replace("%(when)s", conflict.when.replace("T", " "))
      .replace("%(v)s", conflict.version);
    const table = document.createElement("table");
    table.className = "diff";
    const head = table.createTHead().insertRow();
    [m.msgTheirs + " (v" + conflict.version + ")", m.msgMine].forEach((text) => {
      const th = document.createElement("th");
      th.textContent = text;
      head.append(th);
    });
    const body = table.createTBody();
    conflict.rows.forEach((row) => {
      const tr = body.insertRow();
      tr.className = row.kind;
      // Both sides are escaped text with <del>/<ins> marks (manuals.diff).
      tr.insertCell().innerHTML = row.left;
      tr.insertCell().innerHTML = row.right;
    });
    const mine = document.createElement("button");
    mine.type = "button";
    mine.className = "primary";
    mine.dataset.action = "keep-mine";
    mine.textContent = m.msgKeepMine;
    mine.addEventListener("click", () => save(String(conflict.version)));
    const theirs = document.createElement("button");
    theirs.type = "button";
    theirs.dataset.action = "take-theirs";
    theirs.textContent = m.msgTakeTheirs;
    theirs.addEventListener("click", () => {
      const section = state.section;
      show(section, {
        version: conflict.version, title: conflict.title, body: conflict.body,
        kind: section.dataset.kind, kind_label: section.querySelector(".meta .badge").textContent,
        visibility: section.dataset.visibility,
        visibility_label: section.querySelectorAll(".meta .badge")[1].textContent,
      });
      state.dirty = false;
      close("discard");
    });
    const row = document.createElement("div");
    row.className = "row";
    row.append(mine, theirs);
    box.append(h, p, table, row);
    status("");
    box.scrollIntoView({ block: "nearest" });
  }

  // The last section of ``section``'s subtree in the document (where a new one goes).
  function subtreeEnd(section) {
    const depth = Number(section.dataset.depth);
    let last = section;
    const all = window.lanbitouDocument.sections();
    for (let i = all.indexOf(section) + 1; i < all.length; i++) {
      if (Number(all[i].dataset.depth) <= depth) break;
      last = all[i];
    }
    return last;
  }

  function add(section, asChild) {
    if (open && !leave()) return;
    const depth = Number(section.dataset.depth) + (asChild ? 1 : 0);
    const data = {
      title: m.msgNewTitle,
      kind: section.dataset.kind, // a sub-point of a rule is a rule too
      visibility: section.dataset.visibility,
      target: section.dataset.section,
      position: asChild ? "last-child" : "right",
      depth: String(depth),
    };
    post(doc.dataset.addUrl, data).then(({ json }) => {
      if (!json.ok) return window.alert((json.errors || [m.msgFailed]).join(" "));
      const parsed = new DOMParser().parseFromString(json.html, "text/html");
      const added = document.importNode(parsed.querySelector(".doc-section"), true);
      subtreeEnd(section).after(added);
      window.lanbitouDocument.adopt(added);
      window.lanbitouDocument.scrollToSection(added);
      edit(added).then((state) => {
        if (!state) return;
        state.form.elements.title.focus();
        state.form.elements.title.select();
      });
    });
  }

  doc.addEventListener("click", (event) => {
    const section = event.target.closest(".doc-section");
    if (!section || event.target.closest(".inline-editor")) return;
    const action = event.target.closest("[data-action]");
    if (action) {
      if (action.dataset.action === "edit") edit(section);
      if (action.dataset.action === "add-below") add(section, false);
      if (action.dataset.action === "add-child") add(section, true);
      return;
    }
    if (event.target.closest("a, button")) return;
    if (!event.target.closest(".doc-title.editable, .doc-body.editable")) return;
    if (String(window.getSelection())) return; // selecting text to copy is not editing
    edit(section);
  });

  document.addEventListener("keydown", (event) => {
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "s" && open) {
      event.preventDefault();
      save();
      return;
    }
    if (key === "Escape" && open) {
      event.preventDefault();
      leave();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable=true]")) return;
    const section = window.lanbitouDocument && window.lanbitouDocument.currentSection();
    if (!section) return;
    if (key === "e" || key === "E") { event.preventDefault(); edit(section); }
    if (key === "a") { event.preventDefault(); add(section, false); }
    if (key === "A") { event.preventDefault(); add(section, true); }
  });

  window.addEventListener("beforeunload", (event) => {
    if (open && open.dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.lanbitouInlineEdit = { edit, save, leave, add };
})();
