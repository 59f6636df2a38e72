// Drafts: what is typed survives (issue 12). For every form marked data-draft-url:
// - the title and body are kept as the writer's draft on the server every few seconds and
//   when the page is hidden (no new version), and in this browser's localStorage on every
//   change, in case the server cannot be reached or the session has ended;
// - opening the editor again offers the newest draft: restore or discard;
// - Save goes through fetch, so a failure (logged out in another tab, expired session, a
//   refused security token, no network) never leaves the page: the text stays and the page
//   says what to do. Conflicts and messages about the text are shown by the server's page,
//   as without this script.
(function () {
  "use strict";
  const _ = window.gettext || ((text) => text);
  const format = window.interpolate || ((text, args) => text.replace("%s", args[0]));
  const editors = new Map(); // textarea id -> Tiptap editor
  const SESSION_ENDED = () => _("You are no longer logged in (logged out in another tab, or the session expired). Your text is still here and kept in this browser: log in in another tab, then click Save again.");

  document.addEventListener("prose-editor:ready", (event) => {
    editors.set(event.detail.textarea.id, event.detail.editor);
  });

  function editorFor(textarea) {
    if (editors.has(textarea.id)) return editors.get(textarea.id);
    const wrapper = textarea.closest(".prose-editor");
    // Tiptap hangs itself on its DOM node (the menu has a .ProseMirror element too).
    const node = wrapper && [...wrapper.querySelectorAll(".ProseMirror")].find((n) => n.editor);
    return (node && node.editor) || null;
  }

  function csrfToken(form) {
    // The cookie, not the token printed in the page: logging in again in another tab
    // rotates it, and the page's copy would then be refused.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = form.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function timeOf(iso) {
    const date = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function setup(form) {
    const url = form.dataset.draftUrl;
    const key = `lanbitou-draft:${form.dataset.draftUser || ""}:${url}`;
    const every = Number(form.dataset.draftEvery) || 3000;
    const title = form.querySelector("[name=title]");
    const body = form.querySelector("textarea[name=body]");
    const version = form.querySelector("[name=version]");
    const loaded = { title: title.value, body: body.value };
    let changed = false; // since the last draft the server kept
    let done = false; // saved: nothing to keep any more (the server deleted the draft)

    const notice = document.createElement("div");
    notice.className = "draft-notice";
    notice.dataset.draftNotice = "";
    notice.setAttribute("role", "alert");
    notice.hidden = true;
    form.prepend(notice);

    function say(text, link) {
      notice.dataset.kind = link ? "session" : "";
      notice.replaceChildren(document.createTextNode(text));
      if (link) {
        const a = document.createElement("a");
        a.href = link;
        a.target = "_blank";
        a.rel = "opener";
        a.textContent = _("Log in in a new tab");
        a.dataset.draftLogin = "";
        notice.append(" ", a);
      }
      notice.hidden = false;
      notice.scrollIntoView({ block: "nearest" });
    }

    function current() {
      return {
        title: title.value,
        body: body.value,
        base_version: Number(version.value),
        saved_at: new Date().toISOString(),
      };
    }

    function keepLocally() {
      try {
        localStorage.setItem(key, JSON.stringify(current()));
      } catch (e) {
        /* storage full or disabled: the server's draft still counts */
      }
    }

    function local() {
      try {
        return JSON.parse(localStorage.getItem(key) || "null");
      } catch (e) {
        return null;
      }
    }

    function forgetLocally() {
      try {
        localStorage.removeItem(key);
      } catch (e) {
        /* nothing kept */
      }
    }

    function isLoginPage(response) {
      return response.redirected && new URL(response.url).pathname === form.dataset.loginPath;
    }

    function draftData() {
      const data = new FormData();
      const now = current();
      data.set("title", now.title);
      data.set("body", now.body);
      data.set("version", String(now.base_version));
      data.set("csrfmiddlewaretoken", csrfToken(form));
      return data;
    }

    async function keepOnServer(keepalive) {
      if (!changed || done) return;
      changed = false;
      try {
        const response = await fetch(url, {
          method: "POST",
          body: draftData(),
          credentials: "same-origin",
          keepalive: !!keepalive && body.value.length < 60000,
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        });
        if (isLoginPage(response)) {
          changed = true; // kept again once they have logged in elsewhere
          if (notice.hidden) say(SESSION_ENDED(), form.dataset.loginUrl);
        } else if (!response.ok) {
          changed = true;
        } else if (notice.dataset.kind === "session") {
          notice.hidden = true; // logged in again: Save works now
        }
      } catch (e) {
        changed = true;
      }
    }

    function onChange() {
      // Typing while a draft is offered keeps the new text; the offer stays until chosen.
      if (done) return;
      changed = true;
      keepLocally();
    }
    form.addEventListener("input", onChange);
    form.addEventListener("change", onChange);
    window.setInterval(() => keepOnServer(false), every);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") keepOnServer(true);
    });
    window.addEventListener("pagehide", () => keepOnServer(true));

    // --- Offer a draft kept earlier -------------------------------------------------
    function restore(draft) {
      if (draft.title) title.value = draft.title;
      version.value = String(draft.base_version); // a newer saved version shows as a conflict
      const editor = editorFor(body);
      if (editor) editor.commands.setContent(draft.body, true);
      else body.value = draft.body;
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function discard() {
      forgetLocally();
      fetch(url, {
        method: "DELETE",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
      })
        .catch(() => {})
        .then(() => {
          // What was typed while the offer stood is not what was discarded: keep it.
          if (title.value !== loaded.title || body.value !== loaded.body) onChange();
        });
    }

    function offer(draft) {
      const box = document.createElement("div");
      box.className = "draft-offer";
      box.dataset.draftOffer = "";
      box.setAttribute("role", "alert");
      const text = document.createElement("span");
      text.textContent = format(_("You have an unsaved draft from %s"), [timeOf(draft.saved_at)]);
      const restoreButton = document.createElement("button");
      restoreButton.type = "button";
      restoreButton.dataset.draftRestore = "";
      restoreButton.textContent = _("Restore");
      const discardButton = document.createElement("button");
      discardButton.type = "button";
      discardButton.dataset.draftDiscard = "";
      discardButton.textContent = _("Discard");
      box.append(text, " — ", restoreButton, " / ", discardButton);
      restoreButton.addEventListener("click", () => {
        box.remove();
        restore(draft);
      });
      discardButton.addEventListener("click", () => {
        box.remove();
        discard();
      });
      form.prepend(box);
    }

    async function offerKeptDraft() {
      let kept = null;
      try {
        const response = await fetch(url, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.ok && !isLoginPage(response)) kept = (await response.json()).draft;
      } catch (e) {
        kept = null;
      }
      const mine = local();
      if (mine && (!kept || Date.parse(mine.saved_at) > Date.parse(kept.saved_at))) kept = mine;
      if (!kept) return;
      if (kept.title === loaded.title && kept.body === loaded.body) {
        forgetLocally(); // nothing that is not saved already
        return;
      }
      offer(kept);
    }
    offerKeptDraft();

    // --- Save without leaving the page on failure -----------------------------------
    function failed(text, link) {
      keepLocally();
      changed = true;
      say(text, link);
      form.dispatchEvent(new CustomEvent("lanbitou:save-failed"));
    }

    let saving = false; // one Save at a time: a second click would conflict with the first
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (saving) return;
      saving = true;
      save().finally(() => { saving = done; });
    });

    async function save() {
      keepLocally();
      const data = new FormData(form);
      data.set("csrfmiddlewaretoken", csrfToken(form));
      let response;
      try {
        response = await fetch(form.action || window.location.href, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        });
      } catch (e) {
        failed(_("Could not reach the server. Your text is still here and kept in this browser: check the connection, then click Save again."));
        return;
      }
      if (isLoginPage(response)) {
        failed(SESSION_ENDED(), form.dataset.loginUrl);
        return;
      }
      if (response.status === 403) {
        failed(_("The server refused to save (its security check failed, for example after logging in again). Your text is still here and kept in this browser: reload this page in another tab to check you are logged in, then click Save again."));
        return;
      }
      const type = response.headers.get("Content-Type") || "";
      if (response.ok && type.startsWith("application/json")) {
        const answer = await response.json();
        if (answer.saved) {
          done = true;
          forgetLocally();
          window.location.assign(answer.url);
          return;
        }
      }
      if (response.status !== 200 && response.status !== 409) {
        failed(
          response.status === 404
            ? _("The server cannot find this section for the person now logged in (it may have been deleted, or someone else logged in in this browser). Your text is still here and kept in this browser.")
            : _("The server could not save (an error on its side). Your text is still here and kept in this browser: try Save again in a moment."),
        );
        return;
      }
      // A conflict or a message about the text (nothing was saved): the server's page says
      // it, with the text kept, as a plain form post would.
      const token = form.querySelector("[name=csrfmiddlewaretoken]");
      if (token) token.value = csrfToken(form);
      done = true; // leaving for the server's page
      HTMLFormElement.prototype.submit.call(form);
    }
  }

  function init() {
    document.querySelectorAll("form[data-draft-url]").forEach((form) => {
      if (!form.dataset.draftReady) {
        form.dataset.draftReady = "1";
        setup(form);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
