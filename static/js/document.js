// The manual (or a chapter) read as one document: chunks load as you scroll (both ways),
// the outline follows the section in view and a click in it scrolls there (loading the
// chunk that holds it), J/K step between sections. Find-in-manual asks reveal() for the
// section of the next hit (static/js/find.js).
(function () {
  "use strict";
  const doc = document.getElementById("document");
  if (!doc) return;
  const outline = document.getElementById("outline");
  const chunkUrl = doc.dataset.chunkUrl;
  const scope = doc.dataset.scope;
  let loading = null;

  function sections() {
    return Array.from(doc.querySelectorAll(".doc-section"));
  }
  function chunks() {
    return Array.from(doc.querySelectorAll(".doc-chunk"));
  }

  function fetchChunk(params) {
    const url = new URL(chunkUrl, window.location.href);
    if (scope) url.searchParams.set("scope", scope);
    Object.entries(params).forEach(([k, v]) => url.searchParams.set(k, v));
    return fetch(url, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) return null;
      return response.text().then((html) => {
        const parsed = new DOMParser().parseFromString(html, "text/html");
        return parsed.querySelector(".doc-chunk");
      });
    });
  }

  function sentinel(kind) {
    return doc.querySelector(".doc-" + kind);
  }

  function setSentinel(kind, id) {
    let link = sentinel(kind);
    if (!id) {
      if (link) link.remove();
      return;
    }
    if (!link) {
      link = document.createElement("a");
      link.className = "doc-more doc-" + kind;
      link.textContent = doc.dataset["msg" + kind[0].toUpperCase() + kind.slice(1)] || "…";
      if (kind === "earlier") doc.prepend(link);
      else doc.append(link);
      observer.observe(link);
    }
    link.href = "?from=" + id;
    link.dataset.from = id;
  }

  function adopt(chunk) {
    chunk.querySelectorAll(".doc-section").forEach((s) => inView.observe(s));
    document.dispatchEvent(new CustomEvent("document:chunk", { detail: { chunk } }));
    return chunk;
  }

  function loadLater() {
    const last = chunks().pop();
    const from = last && last.dataset.next;
    if (!from || loading) return loading || Promise.resolve(null);
    loading = fetchChunk({ from }).then((chunk) => {
      loading = null;
      if (!chunk) return null;
      last.after(document.importNode(chunk, true));
      const added = chunks().pop();
      setSentinel("later", added.dataset.next);
      return adopt(added);
    });
    return loading;
  }

  function loadEarlier() {
    const first = chunks()[0];
    if (!first || !first.dataset.previous || loading) return loading || Promise.resolve(null);
    loading = fetchChunk({ from: first.dataset.first, before: "1" }).then((chunk) => {
      loading = null;
      if (!chunk) return null;
      // Keep what is on screen where it is while content appears above it.
      const anchor = first.querySelector(".doc-section");
      const top = anchor ? anchor.getBoundingClientRect().top : 0;
      first.before(document.importNode(chunk, true));
      const added = chunks()[0];
      if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - top);
      setSentinel("earlier", added.dataset.previous);
      return adopt(added);
    });
    return loading;
  }

  // The section with id, loaded when it is not on the page yet: its chunk replaces the
  // ones shown (a jump, like clicking in Word's Navigation Pane). Null when the section
  // is not part of this document (elsewhere in the manual, or not readable).
  function reveal(id) {
    const here = document.getElementById("s-" + id);
    if (here) return Promise.resolve(here);
    return fetchChunk({ from: id }).then((chunk) => {
      if (!chunk) return null;
      chunks().forEach((c) => c.remove());
      const placed = document.importNode(chunk, true);
      const earlier = sentinel("earlier");
      if (earlier) earlier.after(placed);
      else doc.prepend(placed);
      setSentinel("earlier", placed.dataset.previous);
      setSentinel("later", placed.dataset.next);
      adopt(placed);
      return document.getElementById("s-" + id);
    });
  }

  const observer = new IntersectionObserver(
    (entries) => {
      entries.forEach((entry) => {
        if (!entry.isIntersecting) return;
        if (entry.target.classList.contains("doc-later")) loadLater();
        else if (entry.target.classList.contains("doc-earlier")) loadEarlier();
      });
    },
    { rootMargin: "1200px 0px" },
  );
  ["earlier", "later"].forEach((kind) => {
    const link = sentinel(kind);
    if (link) {
      doc.dataset["msg" + kind[0].toUpperCase() + kind.slice(1)] = link.textContent;
      observer.observe(link);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        (kind === "later" ? loadLater : loadEarlier)();
      });
    }
  });

  // Scroll-sync: the outline marks the top-most section in view.
  const visible = new Set();
  let currentId = null;
  const inView = new IntersectionObserver(
    (entries) => {
      entries.forEach((entry) => {
        if (entry.isIntersecting) visible.add(entry.target);
        else visible.delete(entry.target);
      });
      let top = null;
      visible.forEach((el) => {
        if (!el.isConnected) return visible.delete(el);
        if (!top || el.getBoundingClientRect().top < top.getBoundingClientRect().top) top = el;
      });
      if (!atEnd() && top) markInView(top.dataset.section);
    },
    { rootMargin: "-56px 0px -55% 0px" },
  );
  sections().forEach((s) => inView.observe(s));
  // At the very end the last sections never reach the top of the screen: mark the last.
  function atEnd() {
    const end = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 4;
    const last = sections().pop();
    if (!end || !last || sentinel("later")) return false;
    markInView(last.dataset.section);
    return true;
  }
  window.addEventListener("scroll", atEnd, { passive: true });

  function markInView(id) {
    if (id === currentId) return;
    currentId = id;
    if (!outline) return;
    outline.querySelectorAll(".in-view").forEach((el) => {
      el.classList.remove("in-view");
      const link = el.querySelector(":scope > .outline-row > a");
      if (link) link.removeAttribute("aria-current");
    });
    const item = outline.querySelector('li[data-id="' + id + '"]');
    if (!item) {
      // A long manual's outline is sent closed below the chapters: bring this branch.
      if (window.lanbitouOutline) {
        window.lanbitouOutline.reveal(id).then((found) => {
          if (found && currentId === id) { currentId = null; markInView(id); }
        });
      }
      return;
    }
    item.classList.add("in-view");
    item.querySelector(":scope > .outline-row > a").setAttribute("aria-current", "location");
    // Open collapsed ancestors, and keep the row visible in the outline's own scroll.
    for (let p = item.parentElement.closest("li[aria-expanded]"); p; p = p.parentElement.closest("li[aria-expanded]")) {
      p.setAttribute("aria-expanded", "true");
    }
    const row = item.querySelector(".outline-row");
    const box = outline.getBoundingClientRect();
    const r = row.getBoundingClientRect();
    if (r.top < box.top || r.bottom > box.bottom) outline.scrollTop += r.top - box.top - box.height / 3;
  }

  function scrollToSection(el) {
    el.scrollIntoView({ block: "start" });
    el.focus({ preventScroll: true });
    markInView(el.dataset.section);
    history.replaceState(null, "", "#s-" + el.dataset.section);
  }

  function currentSection() {
    return currentId ? document.getElementById("s-" + currentId) : sections()[0] || null;
  }

  function stepSection(direction) {
    const all = sections();
    const here = currentSection();
    const index = here ? all.indexOf(here) : -1;
    const target = all[index + direction];
    if (target) return scrollToSection(target);
    const more = direction > 0 ? loadLater() : loadEarlier();
    more.then((chunk) => {
      if (!chunk) return;
      const list = chunk.querySelectorAll(".doc-section");
      const el = direction > 0 ? list[0] : list[list.length - 1];
      if (el) scrollToSection(el);
    });
  }

  if (outline) {
    outline.addEventListener("click", (event) => {
      const link = event.target.closest(".outline-row > a");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const id = link.closest("li").dataset.id;
      event.preventDefault();
      reveal(id).then((el) => {
        if (!el) {
          window.location.href = link.href;
          return;
        }
        document.body.classList.remove("outline-open");
        scrollToSection(el);
      });
    });
  }
  document.querySelectorAll("[data-doc-step]").forEach((button) => {
    button.addEventListener("click", () => stepSection(Number(button.dataset.docStep)));
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable=true], .inline-editor")) return;
    if (event.key === "j") { event.preventDefault(); stepSection(1); }
    if (event.key === "k") { event.preventDefault(); stepSection(-1); }
  });

  const start = /^#s-(\d+)$/.exec(window.location.hash);
  if (start) reveal(start[1]).then((el) => el && scrollToSection(el));

  window.lanbitouDocument = { reveal, currentSection, scrollToSection, sections, adopt, markInView };
})();
