// Pasting into a section editor (issue 12):
// - a picture on the clipboard (a screenshot) or a data: picture in pasted HTML is uploaded
//   through the image pipeline (manuals:image_upload: checks, metadata stripped, resized)
//   and inserted as the library picture;
// - pictures we cannot fetch (web addresses, file:// from Word) become a visible note in the
//   text and a message asking to upload them, never an empty picture (the server would drop
//   any <img> that is not from the library);
// - headings (h1–h6, Word's MsoHeading styles and outline levels) land on the editor's
//   levels h2–h4, the pasted text's top level on h2 (the section's title is above it).
// Attaches to every django-prose-editor whose textarea sits in an element marked
// data-paste-upload-url (or beside an image panel): the edit page's editor when it starts,
// the continuous document's in-place editors through window.lanbitouPaste.attach.
(function () {
  "use strict";
  const _ = window.gettext || ((text) => text);
  const format = window.interpolate || ((text, args) => text.replace("%s", args[0]));
  const TOP_LEVEL = 2; // forms.EDITOR_EXTENSIONS: Heading levels 2, 3, 4
  const BOTTOM_LEVEL = 4;
  const HEADINGS = "h1, h2, h3, h4, h5, h6, [class*='MsoHeading' i], [style*='mso-outline-level' i]";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function uploadUrlFor(textarea) {
    const marked = textarea.closest("[data-paste-upload-url]");
    if (marked) return marked.dataset.pasteUploadUrl;
    const panels = [...document.querySelectorAll("[data-image-panel]")];
    const panel = panels.find((p) => p.dataset.editorId === textarea.id) || panels[0];
    return panel ? panel.dataset.uploadUrl : null;
  }

  function headingLevel(element) {
    const tag = /^H([1-6])$/.exec(element.tagName);
    if (tag) return Number(tag[1]);
    const style = /MsoHeading(\d)/i.exec(element.className || "");
    if (style) return Number(style[1]);
    const outline = /mso-outline-level\s*:\s*(\d+)/i.exec(element.getAttribute("style") || "");
    const level = outline ? Number(outline[1]) : 0;
    return level >= 1 && level <= 9 ? level : 0; // Word: 1–9 headings, 10 body text
  }

  function blobOf(dataUrl) {
    // Decoded here: the page's Content-Security-Policy does not let fetch() read data: URLs.
    const match = /^data:([^;,]+)(;base64)?,(.*)$/s.exec(dataUrl);
    if (!match) return null;
    const text = match[2] ? atob(match[3].replace(/\s/g, "")) : decodeURIComponent(match[3]);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return new Blob([bytes], { type: match[1] });
  }

  async function upload(url, blob, name) {
    const body = new FormData();
    body.append("file", blob, name);
    body.append("purpose", "section");
    const response = await fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (e) {
      answer = {};
    }
    if (response.status !== 201 || !answer.html) {
      throw new Error(answer.error || _("The pasted picture could not be uploaded."));
    }
    document.dispatchEvent(new CustomEvent("lanbitou:image-added", { detail: answer }));
    return answer;
  }

  function missingNote(doc) {
    const note = doc.createElement("strong");
    note.textContent = _("[Picture not pasted: upload it from the picture library]");
    return note;
  }

  function isLibraryPicture(src) {
    try {
      const url = new URL(src, window.location.href);
      return url.origin === window.location.origin && /^\/images\/\d+\/$/.test(url.pathname);
    } catch (e) {
      return false;
    }
  }

  // Returns the HTML to insert and what could not be taken.
  async function transform(html, url) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const report = { missing: 0, errors: [], uploaded: 0 };
    // The pasted text's top heading level (Word's Heading 1, a web page's h2) becomes h2.
    const headings = [...doc.querySelectorAll(HEADINGS)].filter((e) => headingLevel(e) > 0);
    const top = Math.min(...headings.map(headingLevel));
    headings.forEach((element) => {
      const level = headingLevel(element) - top + TOP_LEVEL;
      const heading = doc.createElement(`h${Math.min(level, BOTTOM_LEVEL)}`);
      heading.innerHTML = element.innerHTML;
      element.replaceWith(heading);
    });
    for (const img of [...doc.querySelectorAll("img")]) {
      const src = img.getAttribute("src") || "";
      if (isLibraryPicture(src)) continue;
      const blob = src.startsWith("data:image/") ? blobOf(src) : null;
      if (!blob || !url) {
        report.missing += 1;
        img.replaceWith(missingNote(doc));
        continue;
      }
      try {
        const picture = await upload(url, blob, "pasted." + (blob.type.split("/")[1] || "png"));
        const holder = doc.createElement("template");
        holder.innerHTML = picture.html;
        img.replaceWith(holder.content);
        report.uploaded += 1;
      } catch (error) {
        report.errors.push(error.message);
        img.replaceWith(missingNote(doc));
      }
    }
    return { html: doc.body.innerHTML, report };
  }

  function noticeFor(textarea) {
    const wrapper = textarea.closest(".prose-editor") || textarea;
    let notice = wrapper.nextElementSibling;
    if (!notice || !notice.matches("[data-paste-notice]")) {
      notice = document.createElement("p");
      notice.className = "paste-notice";
      notice.dataset.pasteNotice = "";
      notice.setAttribute("role", "status");
      notice.hidden = true;
      wrapper.after(notice);
    }
    return notice;
  }

  function tell(textarea, report) {
    const lines = [];
    if (report.uploaded) lines.push(_("Pasted pictures were added to the picture library."));
    if (report.missing) {
      lines.push(
        format(
          _("%s picture(s) could not be pasted (from a web page or a file on your computer): save them, then upload them in the picture library. A note in the text marks each place."),
          [report.missing],
        ),
      );
    }
    lines.push(...report.errors);
    const notice = noticeFor(textarea);
    notice.textContent = lines.join(" ");
    notice.hidden = lines.length === 0;
  }

  function attach(editor, textarea) {
    const wrapper = textarea.closest(".prose-editor");
    if (!wrapper || wrapper.dataset.pasteReady) return;
    wrapper.dataset.pasteReady = "1";
    const url = uploadUrlFor(textarea);
    // Capture: decided before the editor's own paste handling, which is stopped when we
    // insert the content ourselves.
    wrapper.addEventListener(
      "paste",
      (event) => {
        if (!editor.view.dom.contains(event.target) || !event.clipboardData) return;
        const clip = event.clipboardData;
        const html = clip.getData("text/html");
        const files = [...clip.files].filter((file) => file.type.startsWith("image/"));
        const doc = html ? new DOMParser().parseFromString(html, "text/html") : null;
        // Copied from an editor like this one: its levels and pictures are ours already,
        // and the editor's own paste keeps the structure it copied.
        if (doc && doc.querySelector("[data-pm-slice]") && !files.length) return;
        const hasText = doc && doc.body.textContent.trim() !== "";
        const onlyPictures = files.length > 0 && !hasText && !(doc && doc.querySelector("img[src^='data:']"));
        const needsUs = doc && doc.querySelector(`img, ${HEADINGS}`);
        if (!onlyPictures && !needsUs) return; // plain text and simple HTML: the editor's own
        event.preventDefault();
        event.stopPropagation();
        const work = onlyPictures
          ? Promise.all(
            files.map((file) => upload(url, file, file.name || "pasted.png").then(
              (picture) => ({ html: picture.html }),
              (error) => ({ error: error.message }),
            )),
          ).then((results) => ({
            html: results.map((r) => r.html || "").join(""),
            report: {
              uploaded: results.filter((r) => r.html).length,
              missing: 0,
              errors: results.filter((r) => r.error).map((r) => r.error),
            },
          }))
          : transform(html, url);
        work.then(({ html: content, report }) => {
          if (content) editor.chain().focus().insertContent(content).run();
          tell(textarea, report);
        });
      },
      true,
    );
  }

  window.lanbitouPaste = { attach };
  document.addEventListener("prose-editor:ready", (event) => {
    attach(event.detail.editor, event.detail.textarea);
  });

  function init() {
    // Editors that started before this script: Tiptap hangs itself on its DOM node.
    document.querySelectorAll(".prose-editor").forEach((wrapper) => {
      const node = [...wrapper.querySelectorAll(".ProseMirror")].find((n) => n.editor);
      const textarea = wrapper.querySelector("textarea");
      if (node && node.editor && textarea) attach(node.editor, textarea);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
