// Drafts: what is typed survives (issue 12). Both section editors use this: the edit page
// (a form marked data-draft-url, set up here) and the in-place editor of the continuous
// document (static/js/inline-edit.js, through window.lanbitouDrafts.keep).
// - the title and body are kept as the writer's draft on the server every few seconds and
//   when the page is hidden (no new version), and in this browser's localStorage on every
//   change, in case the server cannot be reached or the session has ended;
// - opening the editor again offers the newest draft: restore or discard;
// - Save goes through fetch, so a failure (logged out in another tab, expired session, a
//   refused security token, no network) never leaves the page: the text stays and the page
//   says what to do (failureOf below). On the edit page, conflicts and messages about the
//   text are shown by the server's page, as without this script.
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
    const wrapper = textarea.closest(".prose-editor");
    // Tiptap hangs itself on its DOM node (the menu has a .ProseMirror element too).
    const node = wrapper && [...wrapper.querySelectorAll(".ProseMirror")].find((n) => n.editor);
    if (node && node.editor) return node.editor;
    return editors.get(textarea.id) || null;
  }

  function csrfToken(form) {
    // The cookie, not the token printed in the page: logging in again in another tab
    // rotates it, and the page's copy would then be refused.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = form && form.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function timeOf(iso) {
    const date = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function isLoginPage(response, loginPath) {
    return response.redirected && new URL(response.url).pathname === loginPath;
  }

  // What to tell the writer when a Save did not get through, or null when the server
  // answered about the text itself (saved, a conflict, a message about a field).
  // ``response`` is null when the server could not be reached.
  function failureOf(response, { loginPath, loginUrl }) {
    if (!response) {
      return { text: _("Could not reach the server. Your text is still here and kept in this browser: check the connection, then click Save again.") };
    }
    if (isLoginPage(response, loginPath)) return { text: SESSION_ENDED(), link: loginUrl };
    if (response.status === 403) {
      return { text: _("The server refused to save (its security check failed, for example after logging in again). Your text is still here and kept in this browser: reload this page in another tab to check you are logged in, then click Save again.") };
    }
    if (response.status === 404) {
      return { text: _("The server cannot find this section for the person now logged in (it may have been deleted, or someone else logged in in this browser). Your text is still here and kept in this browser.") };
    }
    if (response.status >= 500) {
      return { text: _("The server could not save (an error on its side). Your text is still here and kept in this browser: try Save again in a moment.") };
    }
    return null;
  }

  // Keeps the draft of ``form`` (fields title, body, version) at ``options.url`` while the
  // editor is open; ``stop()`` when it closes. Returns what the editor's Save needs.
  function keep(form, options) {
    const url = options.url;
    const key = `lanbitou-draft:${options.user || ""}:${url}`;
    const every = Number(options.every) || 3000;
    const title = form.querySelector("[name=title]");
    const body = form.querySelector("textarea[name=body]");
    const version = form.querySelector("[name=version]");
    const loaded = { title: title.value, body: body.value };
    let changed = false; // since the last draft the server kept
    let done = false; // saved or closed: nothing to keep any more
    let held = false; // a Save is on its way: a draft sent now could outlive it
    let sending = Promise.resolve();

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

    function draftData() {
      const data = new FormData();
      const now = current();
      data.set("title", now.title);
      data.set("body", now.body);
      data.set("version", String(now.base_version));
      data.set("csrfmiddlewaretoken", csrfToken(form));
      return data;
    }

    function encodedSize() {
      const now = current();
      return new TextEncoder().encode(now.title + now.body).length;
    }

    async function send(keepalive) {
      changed = false;
      try {
        const response = await fetch(url, {
          method: "POST",
          body: draftData(),
          credentials: "same-origin",
          // Browsers refuse keepalive requests over 64 KiB (bytes: CJK takes three each).
          keepalive: !!keepalive && encodedSize() < 60000,
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        });
        if (isLoginPage(response, options.loginPath)) {
          changed = true; // kept again once they have logged in elsewhere
          if (notice.hidden) say(SESSION_ENDED(), options.loginUrl);
        } else if (!response.ok) {
          changed = true;
        } else if (notice.dataset.kind === "session") {
          notice.hidden = true; // logged in again: Save works now
        }
      } catch (e) {
        changed = true;
      }
    }

    // One draft request at a time: a slow one answered after a newer one (or after the
    // Save, which deletes the draft) would bring back older text. A round that finds one
    // on its way skips; the next round sends what is new. Only the page closing does not
    // wait (its request is the last chance).
    let inFlight = false;
    function keepOnServer(keepalive) {
      if (!changed || done || held) return sending;
      if (inFlight && !keepalive) return sending;
      inFlight = true;
      sending = send(keepalive).finally(() => {
        inFlight = false;
      });
      return sending;
    }

    function onChange() {
      // Typing while a draft is offered keeps the new text; the offer stays until chosen.
      if (done) return;
      changed = true;
      keepLocally();
    }
    const timer = window.setInterval(() => keepOnServer(false), every);
    const onHidden = () => {
      if (document.visibilityState === "hidden") keepOnServer(true);
    };
    const onPageHide = () => keepOnServer(true);
    form.addEventListener("input", onChange);
    form.addEventListener("change", onChange);
    document.addEventListener("visibilitychange", onHidden);
    window.addEventListener("pagehide", onPageHide);

    function stop() {
      done = true;
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onHidden);
      window.removeEventListener("pagehide", onPageHide);
    }

    // --- Offer a draft kept earlier -------------------------------------------------
    function restore(draft) {
      if (draft.title) title.value = draft.title;
      version.value = String(draft.base_version); // a newer saved version shows as a conflict
      const editor = editorFor(body);
      if (editor) editor.commands.setContent(draft.body, true);
      else body.value = draft.body;
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function forgetOnServer() {
      return fetch(url, {
        method: "DELETE",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
      }).catch(() => {});
    }

    function discardOffer() {
      forgetLocally();
      forgetOnServer().then(() => {
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
        discardOffer();
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
        if (response.ok && !isLoginPage(response, options.loginPath)) {
          kept = (await response.json()).draft;
        }
      } catch (e) {
        kept = null;
      }
      if (done) return;
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

    return {
      say,
      keepLocally,
      // Before a Save: no draft may reach the server after it (the save deletes the draft).
      hold() {
        held = true;
        keepLocally();
        // A draft request that hangs must not hold the Save for ever.
        return Promise.race([sending, new Promise((resolve) => window.setTimeout(resolve, 10000))]);
      },
      // The Save did not get through: keep the text everywhere and say what to do.
      failed(failure) {
        held = false;
        keepLocally();
        changed = true;
        say(failure.text, failure.link);
      },
      // The Save answered about the text (a conflict, a message): drafts go on.
      resume() {
        held = false;
      },
      // Saved, but the writer typed on meanwhile: what is newer is kept as a draft again.
      savedWithMore() {
        held = false;
        changed = true;
        keepLocally();
      },
      // Saved: the server deleted the draft; forget this browser's copy too.
      saved() {
        stop();
        forgetLocally();
      },
      // The writer chose to throw the text away.
      discard() {
        stop();
        forgetLocally();
        return forgetOnServer();
      },
      stop,
    };
  }

  window.lanbitouDrafts = { keep, failureOf, csrfToken };

  // --- The edit page ----------------------------------------------------------------
  function setup(form) {
    const options = {
      url: form.dataset.draftUrl,
      user: form.dataset.draftUser,
      every: form.dataset.draftEvery,
      loginUrl: form.dataset.loginUrl,
      loginPath: form.dataset.loginPath,
    };
    const keeper = keep(form, options);

    let saving = false; // one Save at a time: a second click would conflict with the first
    let left = false; // leaving for the next page
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (saving) return;
      saving = true;
      save().finally(() => { saving = left; });
    });

    function failed(failure) {
      keeper.failed(failure);
      form.dispatchEvent(new CustomEvent("lanbitou:save-failed"));
    }

    async function save() {
      await keeper.hold();
      const data = new FormData(form);
      data.set("csrfmiddlewaretoken", csrfToken(form));
      let response = null;
      try {
        response = await fetch(form.action || window.location.href, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        });
      } catch (e) {
        response = null;
      }
      const failure = failureOf(response, options);
      if (failure) {
        failed(failure);
        return;
      }
      const type = response.headers.get("Content-Type") || "";
      if (response.ok && type.startsWith("application/json")) {
        const answer = await response.json();
        if (answer.saved) {
          left = true;
          keeper.saved();
          window.location.assign(answer.url);
          return;
        }
      }
      if (response.status !== 200 && response.status !== 409) {
        failed({ text: _("The server could not save (an error on its side). Your text is still here and kept in this browser: try Save again in a moment.") });
        return;
      }
      // A conflict or a message about the text (nothing was saved): the server's page says
      // it, with the text kept, as a plain form post would.
      const token = form.querySelector("[name=csrfmiddlewaretoken]");
      if (token) token.value = csrfToken(form);
      left = true;
      keeper.stop(); // leaving for the server's page, which keeps the text
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
