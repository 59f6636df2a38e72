// Find in this manual: type in the box, see the count, step next/previous through every
// occurrence across the manual's sections, each highlighted in place.
//
// The page provides a box (templates/search/_find_box.html) with data-find-url and
// data-fold-url, and marks what to search with [data-find-region] (the section's title and
// body). The server lists the sections that contain the query, in manual order, with
// exact counts; hits in the section on screen are found here with the same folding table
// (Traditional→Simplified, full-width→ASCII, case), so the counts agree.
(function () {
  "use strict";
  const box = document.querySelector("[data-find-url]");
  if (!box) return;
  const input = box.querySelector("input[type=search]");
  const countEl = box.querySelector(".find-count");
  const prevBtn = box.querySelector("[data-find=prev]");
  const nextBtn = box.querySelector("[data-find=next]");
  // On a continuous document (static/js/document.js) the section of the current hit is
  // the one searched on screen, and stepping past its hits reveals the next one in place.
  const docMode = !!document.getElementById("document");
  let currentSection = Number(box.dataset.currentSection || 0);
  const BLOCKS = /^(P|BR|HR|H[1-6]|LI|UL|OL|PRE|BLOCKQUOTE|TABLE|TR|TD|TH|CAPTION|FIGURE|FIGCAPTION|DIV)$/;

  let foldMap = null;
  let state = { query: "", terms: [], sections: [], total: 0, marks: [], local: -1 };
  let timer = null;
  let requestSeq = 0;

  function loadFold() {
    if (foldMap) return Promise.resolve(foldMap);
    return fetch(box.dataset.foldUrl, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => (foldMap = data.map));
  }

  function foldChar(ch) {
    return (foldMap && foldMap[ch]) || ch;
  }

  function clearMarks() {
    document.querySelectorAll("mark.find-hit").forEach((mark) => {
      const parent = mark.parentNode;
      parent.replaceChild(document.createTextNode(mark.textContent), mark);
      parent.normalize();
    });
    document.querySelectorAll(".find-count-badge").forEach((el) => el.remove());
    state.marks = [];
    state.local = -1;
  }

  function blockOf(node) {
    let el = node.parentElement;
    while (el && !BLOCKS.test(el.tagName) && !el.hasAttribute("data-find-region")) {
      el = el.parentElement;
    }
    return el;
  }

  // The region's text as the server sees it: one "\n" between blocks, spaces collapsed.
  function regionText(region) {
    const chars = [];
    const where = [];
    const walker = document.createTreeWalker(region, NodeFilter.SHOW_TEXT);
    let lastBlock = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const block = blockOf(node);
      if (lastBlock && block !== lastBlock && chars.length && chars[chars.length - 1] !== "\n") {
        chars.push("\n");
        where.push(null);
      }
      lastBlock = block;
      const text = node.nodeValue;
      for (let i = 0; i < text.length; i++) {
        let ch = text[i];
        if (/\s/.test(ch) && ch !== "\u3000") {
          const prev = chars[chars.length - 1];
          if (prev === " " || prev === "\n" || chars.length === 0) continue;
          ch = " ";
        }
        chars.push(foldChar(ch));
        where.push([node, i]);
      }
    }
    return { text: chars.join(""), where };
  }

  function findRanges(text, terms) {
    const ranges = [];
    terms.forEach((term) => {
      let at = text.indexOf(term);
      while (at !== -1) {
        ranges.push([at, at + term.length]);
        at = text.indexOf(term, at + term.length);
      }
    });
    ranges.sort((a, b) => a[0] - b[0]);
    // Overlapping hits of different terms are shown as one.
    return ranges.filter((r, i) => i === 0 || r[0] >= ranges[i - 1][1]);
  }

  function wrap(where, start, end, hitIndex) {
    // Split the range into per-text-node pieces and wrap each in a <mark>.
    const pieces = [];
    for (let i = start; i < end; i++) {
      const w = where[i];
      if (!w) continue;
      const last = pieces[pieces.length - 1];
      if (last && last.node === w[0] && last.end === w[1]) last.end = w[1] + 1;
      else pieces.push({ node: w[0], start: w[1], end: w[1] + 1 });
    }
    const marks = [];
    // Later pieces first so earlier offsets in the same node stay valid.
    pieces.reverse().forEach((p) => {
      const range = document.createRange();
      range.setStart(p.node, p.start);
      range.setEnd(p.node, p.end);
      const mark = document.createElement("mark");
      mark.className = "find-hit";
      mark.dataset.hit = String(hitIndex);
      range.surroundContents(mark);
      marks.unshift(mark);
    });
    return marks;
  }

  function highlightHere(terms) {
    const hits = [];
    const scope = docMode ? document.getElementById("s-" + currentSection) : document;
    if (!scope) return hits;
    const regions = Array.from(scope.querySelectorAll("[data-find-region]"), (region) =>
      regionText(region),
    );
    // Like the server: the section matches when every term occurs in its title or text.
    if (!terms.every((t) => regions.some((r) => r.text.includes(t)))) return hits;
    regions.forEach(({ text, where }) => {
      const ranges = findRanges(text, terms);
      // Wrap from the end so the node offsets recorded above are still valid.
      const wrapped = [];
      for (let i = ranges.length - 1; i >= 0; i--) {
        wrapped.unshift(wrap(where, ranges[i][0], ranges[i][1], 0));
      }
      wrapped.forEach((marks) => hits.push(marks));
    });
    hits.forEach((marks, i) => marks.forEach((m) => (m.dataset.hit = String(i))));
    return hits;
  }

  function sectionIndex() {
    return state.sections.findIndex((s) => s.id === currentSection);
  }

  function before() {
    // Occurrences in the sections listed before the one on screen.
    let n = 0;
    for (const s of state.sections) {
      if (s.id === currentSection) break;
      n += s.count;
    }
    return n;
  }

  function totalCount() {
    const here = sectionIndex();
    if (here === -1) return state.total + state.marks.length;
    return state.total - state.sections[here].count + state.marks.length;
  }

  function render() {
    const total = totalCount();
    if (!state.query) {
      countEl.textContent = "";
    } else if (!total) {
      countEl.textContent = box.dataset.msgNone || "0";
    } else if (state.local >= 0) {
      countEl.textContent = before() + state.local + 1 + " / " + total;
    } else {
      countEl.textContent = total + (box.dataset.msgHits || "");
    }
    prevBtn.disabled = nextBtn.disabled = !total;
    badges();
  }

  // Each outline row with hits shows how many; rows a long manual's outline brings later
  // (opening a branch, scrolling) get theirs when they arrive.
  function badges() {
    document.querySelectorAll(".find-count-badge").forEach((el) => el.remove());
    state.sections.forEach((s) => {
      const row = document.querySelector('#outline li[data-id="' + s.id + '"] > .outline-row');
      if (!row) return;
      const badge = document.createElement("span");
      badge.className = "find-count-badge";
      badge.textContent = s.id === currentSection ? state.marks.length : s.count;
      row.appendChild(badge);
    });
  }

  function select(index) {
    state.marks.forEach((marks) => marks.forEach((m) => m.classList.remove("current")));
    state.local = index;
    const marks = state.marks[index];
    if (!marks) return render();
    marks.forEach((m) => m.classList.add("current"));
    marks[0].scrollIntoView({ block: "center" });
    render();
  }

  function goToSection(section, hit) {
    if (docMode && window.lanbitouDocument) {
      window.lanbitouDocument.reveal(section.id).then((el) => {
        if (!el) return navigateTo(section, hit);
        clearMarks();
        currentSection = section.id;
        state.marks = highlightHere(state.terms);
        if (!state.marks.length) return render();
        select(hit < 0 ? state.marks.length - 1 : Math.min(hit, state.marks.length - 1));
      });
      return;
    }
    navigateTo(section, hit);
  }

  function navigateTo(section, hit) {
    const url = new URL(section.url, window.location.href);
    url.searchParams.set("q", state.query);
    url.searchParams.set("hit", hit);
    window.location.href = url.toString();
  }

  function step(direction) {
    if (!totalCount()) return;
    const n = state.marks.length;
    if (direction > 0 && state.local + 1 < n) return select(state.local + 1);
    if (direction < 0 && state.local > 0) return select(state.local - 1);
    if (direction < 0 && state.local === -1 && n) return select(n - 1);
    // Leave this section for the next/previous one that has hits (wrapping around).
    const others = state.sections.filter((s) => s.id !== currentSection);
    if (!others.length) return select(direction > 0 ? 0 : n - 1);
    const here = sectionIndex();
    let target;
    if (direction > 0) {
      target = state.sections.slice(here + 1).find((s) => s.id !== currentSection) || others[0];
    } else {
      const earlier = here === -1 ? [] : state.sections.slice(0, here);
      target = earlier.reverse()[0] || others[others.length - 1];
    }
    goToSection(target, direction > 0 ? 0 : -1);
  }

  function run(query, hit) {
    const seq = ++requestSeq;
    query = query.trim();
    if (!query) {
      clearMarks();
      state = { query: "", terms: [], sections: [], total: 0, marks: [], local: -1 };
      render();
      return Promise.resolve();
    }
    const url = new URL(box.dataset.findUrl, window.location.href);
    url.searchParams.set("q", query);
    const reading = docMode && window.lanbitouDocument && window.lanbitouDocument.currentSection();
    if (reading) url.searchParams.set("reading", reading.dataset.section);
    return Promise.all([loadFold(), fetch(url, { credentials: "same-origin" }).then((r) => r.json())])
      .then(([, data]) => {
        if (seq !== requestSeq) return; // a newer query is on its way
        clearMarks();
        const terms = data.terms.map((t) => Array.from(t).map(foldChar).join(""));
        state = { query, terms, sections: data.sections, total: data.total, marks: [], local: -1 };
        if (docMode) {
          // Start from the first section with hits at or after the one being read, in the
          // whole manual's order (the server knows it; the page holds only some chunks).
          const first = data.sections[data.start || 0];
          currentSection = 0;
          if (first && hit !== undefined) return goToSection(first, hit);
          return render();
        }
        state.marks = highlightHere(terms);
        if (hit !== undefined && state.marks.length) {
          select(hit < 0 ? state.marks.length + hit : Math.min(hit, state.marks.length - 1));
        } else {
          render();
        }
      })
      .catch(() => {
        countEl.textContent = box.dataset.msgError || "!";
      });
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value, 0), 200);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      if (input.value.trim() !== state.query) run(input.value, event.shiftKey ? -1 : 0);
      else step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") {
      input.value = "";
      run("");
    }
  });
  const outlineEl = document.getElementById("outline");
  if (outlineEl) outlineEl.addEventListener("outline:rows", badges);
  nextBtn.addEventListener("click", () => step(1));
  prevBtn.addEventListener("click", () => step(-1));
  document.addEventListener("keydown", (event) => {
    // Ctrl+F / ⌘F inside a manual focuses this box; a second press gives the browser's own.
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f" && document.activeElement !== input) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });

  const params = new URLSearchParams(window.location.search);
  if (params.get("q")) {
    input.value = params.get("q");
    const hit = Number(params.get("hit") || 0);
    // Arrived by stepping from another section: keep typing Enter / Shift+Enter.
    if (params.has("hit")) input.focus();
    run(input.value, Number.isFinite(hit) ? hit : 0);
  }
  window.lanbitouFind = { run, step, state: () => state };
})();
