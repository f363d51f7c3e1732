/*
 * Search that answers questions (loaded on the search page only; see docs/_ext/handbook/search.py).
 *
 * Sphinx's own search wants every word of a query on one page and ranks the pages it finds by a fixed
 * score, which suits single words, not questions. This script keeps Sphinx's search page, its display
 * and its highlighting, ranks with a section-level index of its own, and changes three steps of
 * searchtools.js:
 *
 * 1. Search._parseQuery: the question is rewritten. A reader's phrase or word gains the words the
 *    handbook uses for it ("habit-forming" -> misuse, addiction; "nose spray" -> esketamine), the small
 *    words of asking are dropped ("can I ... after"), a word one typing slip from a known one counts as
 *    it ("pregnent"), and any other word the handbook does not use is dropped, so no word empties the
 *    results.
 * 2. Search._performSearch: every section of every page is scored by the words it shares with the
 *    question, each word weighted by how rare it is in the handbook, a match in a heading or in the
 *    page's keywords counting for more, and sections that hold more of the question's words ranking
 *    higher. Results are sections (and glossary entries), so a link opens where the answer is. The
 *    first results come from different pages. When nothing is left to search, the common questions
 *    are offered. A line above the results says what was searched for and what was left out.
 * 3. Search.makeSearchSummary: the snippet is cut around the rarest word of the question that the
 *    section contains, and the words that matched (the handbook's forms of them) are highlighted. A
 *    glossary entry's snippet is its definition; a question's answer is listed above a glossary entry.
 *
 * Data: HANDBOOK_SEARCH_DATA, written by search.py into _static/search-data.js. If it or any of the
 * three functions is missing, the script does nothing and Sphinx's own search runs unchanged.
 */
"use strict";

(() => {
  const data = window.HANDBOOK_SEARCH_DATA;
  if (
    typeof Search === "undefined"
    || typeof Stemmer === "undefined"
    || !data
    || typeof Search._parseQuery !== "function"
    || typeof Search._performSearch !== "function"
    || typeof Search.makeSearchSummary !== "function"
  )
    return;

  const QUESTIONS_PAGE = "questions";
  const FALLBACK_PAGES = [QUESTIONS_PAGE, "summary", "glossary"];
  const FIRST_DISTINCT_PAGES = 5; // the first results come from this many different pages
  const MORE_PER_PAGE = 2; // further sections of one page that may be listed
  const MAX_RESULTS = 15; // a reader looks at the first few; each one listed costs a page fetch
  // A word the reader did not type counts less; the first word a synonym lists (its main meaning) more
  // than the others.
  const SYNONYM_WEIGHTS = [0.9, 0.75, 0.65, 0.6];
  const PHRASE_WORD_WEIGHT = 0.5; // the words of two that the handbook writes as one ("side effects")
  const ALSO_MATCHED = 0.25; // what a second word of the same group adds
  const PREFIX_WEIGHT = 0.6; // a known word found for an unknown one (longer, or one typing slip away)
  const QUESTION_BONUS = 1.15; // a heading that asks a question is followed by its answer
  const HEADING = 3; // what a word counts for in a section's heading, against 1 in its text
  const PAGE_TITLE = 5; // in the page's title
  const TERM = 1.5; // in a glossary entry's term: a definition answers "what is", rarely a whole question
  const KEYPHRASE = 3; // what a page gains when the question holds one of its keywords of several words

  const stemmer = new Stemmer();
  const stop = new Set(data.stopwords);
  const fillers = new Set(data.fillers);
  const synonyms = data.synonyms;
  const longestPhrase = Math.max(...Object.keys(synonyms).map((k) => k.split(" ").length));
  const singleWordKeys = Object.keys(synonyms).filter((k) => !k.includes(" "));
  const sections = data.sections; // [doc, anchor, heading, 1 for a glossary entry]
  const keywordDocs = {}; // stem -> docs whose front-matter keywords hold it
  for (const [doc, stems] of Object.entries(data.keywords))
    for (const s of stems) (keywordDocs[s] = keywordDocs[s] || []).push(Number(doc));
  const known = new Set([
    ...Object.keys(data.text),
    ...Object.keys(data.heads),
    ...Object.keys(data.labels),
    ...Object.keys(keywordDocs),
  ]);
  const knownList = [...known];
  const stemOf = (word) => stemmer.stemWord(word).toLowerCase();
  const stopStems = new Set([...stop].map(stemOf));
  const headStemCount = new Map(); // section -> number of stems in its heading, stop words aside
  for (const [s, list] of Object.entries(data.heads))
    if (!stopStems.has(s)) for (const x of list) headStemCount.set(x, (headStemCount.get(x) || 0) + 1);

  const words = (text) =>
    text
      .toLowerCase()
      .replace(/['\u2019]/g, "")
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w);
  // Hyphenated words are indexed whole as well ("off-label" as "offlabel"), so "off label" finds them.
  const compounds = (text) =>
    [...text.toLowerCase().matchAll(/[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+/gu)].map((m) => m[0].replace(/-/g, ""));

  const sectionSets = {}; // stem -> the sections holding it in heading, text or label, their pages, df
  const where = (s) => {
    if (!sectionSets[s]) {
      const head = new Set(data.heads[s] || []);
      const text = new Set(data.text[s] || []);
      const label = new Set(data.labels[s] || []);
      const docs = new Set([...head, ...text].map((x) => sections[x][0]));
      const df = new Set([...head, ...text, ...label]).size;
      sectionSets[s] = { head, text, label, docs, kw: new Set(keywordDocs[s] || []), df };
    }
    return sectionSets[s];
  };
  // How rare a word is among the sections: a word in most of them (ketamine, anxiety) tells little.
  const rarity = (s) => Math.max(0.1, Math.log((sections.length + 1) / (where(s).df + 0.5)));

  /** Whether two words are at most one typing slip apart (a letter added, lost, changed or swapped). */
  const oneSlipApart = (a, b) => {
    if (Math.abs(a.length - b.length) > 1 || a === b) return a === b;
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const rest = (x, y) => a.slice(x) === b.slice(y);
    if (a.length === b.length)
      return rest(i + 1, i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(i + 2, i + 2));
    return a.length > b.length ? rest(i + 1, i) : rest(i, i + 1);
  };

  /** Known stems for a word: its own; if unknown, known stems it is the start of, or else known words
   * one typing slip away ("pregnent"). A reader's stop word is skipped; a synonym's words are the
   * handbook's, so they are not. */
  const alternativesFor = (word, weight, into, typed = true) => {
    if ((typed && stop.has(word)) || /^\d{1,2}$/.test(word)) return;
    const s = stemOf(word);
    const add = (stem, w) => into.set(stem, Math.max(into.get(stem) || 0, w));
    if (known.has(s)) add(s, weight);
    else if (known.has(word)) add(word, weight);
    else if (s.length >= 4) {
      const longer = knownList.filter((k) => k.startsWith(s));
      const slips = longer.length || word.length < 5 ? [] : knownList.filter((k) => oneSlipApart(k, s));
      [...longer, ...slips]
        .sort((a, b) => a.length - b.length)
        .slice(0, 3)
        .forEach((k) => add(k, weight * PREFIX_WEIGHT));
    }
  };

  /** The question as groups of alternative stems, one group per word or phrase the reader typed. */
  const plan = (query) => {
    const typed = words(query).filter((w) => !fillers.has(w));
    const groups = [];
    const dropped = [];
    for (let i = 0; i < typed.length; ) {
      let used = 1;
      const alts = new Map();
      for (let n = Math.min(longestPhrase, typed.length - i); n >= 1; n--) {
        const phrase = typed.slice(i, i + n).join(" ");
        if (Object.prototype.hasOwnProperty.call(synonyms, phrase)) {
          used = n;
          // A phrase means what its synonyms say ("habit forming" is not about forms); a word is
          // searched as itself too.
          if (n === 1) alternativesFor(typed[i], 1, alts);
          else alternativesFor(typed.slice(i, i + n).join(""), 1, alts);
          const targets = [...compounds(synonyms[phrase]), ...words(synonyms[phrase])];
          targets.forEach((w, k) =>
            alternativesFor(w, SYNONYM_WEIGHTS[Math.min(k, SYNONYM_WEIGHTS.length - 1)], alts, false));
          break;
        }
        // Two words the handbook writes as one hyphenated word ("side effects", "long term").
        const pair = typed.slice(i, i + 2);
        if (n === 2 && !pair.some((w) => stop.has(w)) && known.has(stemOf(pair.join("")))) {
          used = 2;
          alternativesFor(typed[i] + typed[i + 1], 1, alts);
          typed.slice(i, i + 2).forEach((w) => alternativesFor(w, PHRASE_WORD_WEIGHT, alts));
          break;
        }
      }
      if (used === 1 && alts.size === 0) {
        // A word the handbook does not use may be a slip for a reader's word we know ("pregnent").
        const word = typed[i];
        const slip = known.has(stemOf(word)) || word.length < 5 ? undefined : singleWordKeys.find((k) => oneSlipApart(k, word));
        if (slip) {
          alternativesFor(slip, PREFIX_WEIGHT, alts, false);
          words(synonyms[slip]).forEach((w, k) =>
            alternativesFor(w, PREFIX_WEIGHT * SYNONYM_WEIGHTS[Math.min(k, SYNONYM_WEIGHTS.length - 1)], alts, false));
        } else alternativesFor(word, 1, alts);
      }
      const phrase = typed.slice(i, i + used).join(" ");
      const also = Object.prototype.hasOwnProperty.call(synonyms, phrase)
        ? words(synonyms[phrase]).filter((w) => !phrase.split(" ").includes(w) && known.has(stemOf(w))).slice(0, 2)
        : [];
      if (alts.size) groups.push({ phrase, alts, also });
      else if (!typed.slice(i, i + used).every((w) => stop.has(w) || /^\d{1,2}$/.test(w))) dropped.push(phrase);
      i += used;
    }
    // Keywords of several words that the question holds as they are written ("clinical trials").
    const keyDocs = new Set();
    for (let n = 2; n <= typed.length; n++)
      for (let i = 0; i + n <= typed.length; i++)
        (data.keyphrases[typed.slice(i, i + n).join(" ")] || []).forEach((d) => keyDocs.add(d));
    return { query, groups, dropped, keyDocs };
  };

  /** Score every section that shares a word with the plan; [[section, score, headingMatched]]. */
  const scoreSections = (groups, keyDocs = new Set()) => {
    for (const g of groups) g.rarity = Math.max(...[...g.alts].map(([s, w]) => w * rarity(s)));
    const candidates = new Set();
    const kwDocs = new Set();
    for (const g of groups)
      for (const s of g.alts.keys()) {
        const w = where(s);
        w.head.forEach((x) => candidates.add(x));
        w.text.forEach((x) => candidates.add(x));
        w.kw.forEach((d) => kwDocs.add(d));
      }
    sections.forEach(([doc], x) => {
      if (kwDocs.has(doc) || keyDocs.has(doc)) candidates.add(x);
    });
    const scored = [];
    for (const x of candidates) {
      const doc = sections[x][0];
      const headWeight = sections[x][3] ? TERM : sections[x][1] ? HEADING : PAGE_TITLE;
      let total = 0;
      let local = 0; // how much of the question (by rarity) the section itself holds
      let onPage = 0; // how much its page holds
      let whole = 0;
      let headStems = 0;
      for (const g of groups) {
        let head = 0;
        let text = 0;
        let label = 0;
        let kw = 0;
        let page = 0;
        let also = 0;
        for (const [s, weight] of g.alts) {
          const w = where(s);
          const value = weight * rarity(s);
          if (w.head.has(x)) {
            head = Math.max(head, value);
            if (!stopStems.has(s)) headStems += 1;
          }
          if (w.text.has(x)) {
            also += Math.min(text, value);
            text = Math.max(text, value);
          }
          if (w.label.has(x)) label = Math.max(label, value);
          if (w.kw.has(doc)) kw = Math.max(kw, value);
          if (w.docs.has(doc)) page = Math.max(page, value);
        }
        whole += g.rarity;
        if (head || text || label) local += g.rarity;
        if (head || text || label || kw || page) onPage += g.rarity;
        total += headWeight * head + text + ALSO_MATCHED * also + 1.5 * label + kw + 0.5 * page;
      }
      if (keyDocs.has(doc)) total += KEYPHRASE * groups.reduce((sum, g) => sum + g.rarity, 0);
      if (!total) continue;
      const headShare = Math.min(1, headStems / (headStemCount.get(x) || 1));
      const headBonus = headStems ? 0.75 + 0.25 * headShare : 1;
      const coverage = 0.2 + 0.4 * (onPage / whole) ** 2 + 0.4 * (local / whole) ** 2;
      const answers = sections[x][2].trim().endsWith("?") ? QUESTION_BONUS : 1;
      const weight = data.weights[doc] ?? 1;
      scored.push([x, total * headBonus * coverage * answers * weight, headStems > 0]);
    }
    return scored.sort((a, b) => b[1] - a[1]);
  };

  /** Sphinx's result rows, best last (Sphinx pops them from the end). */
  const rows = (ranked) => {
    const byDoc = new Map();
    for (const item of ranked) {
      const doc = sections[item[0]][0];
      if (!byDoc.has(doc)) byDoc.set(doc, []);
      byDoc.get(doc).push(item);
    }
    let first = [...byDoc.values()].map((list) => list[0]).sort((a, b) => b[1] - a[1]);
    // A question's answer comes before a glossary entry: a definition rarely answers the whole question.
    // Glossary entries ranked above the last answer move to just after it; the rest keep their order.
    const isTerm = (item) => sections[item[0]][3];
    const isAnswer = (item) => sections[item[0]][2].trim().endsWith("?");
    const lastAnswer = first.map(isAnswer).lastIndexOf(true);
    if (lastAnswer > 0) {
      const upTo = first.slice(0, lastAnswer + 1);
      first = [...upTo.filter((i) => !isTerm(i)), ...upTo.filter(isTerm), ...first.slice(lastAnswer + 1)];
    }
    const best = ranked.length ? ranked[0][1] : 0;
    const more = [...byDoc.values()]
      .flatMap((list) => list.slice(1, 1 + MORE_PER_PAGE).filter((item) => item[1] >= 0.5 * best));
    const ordered = [...first.slice(0, FIRST_DISTINCT_PAGES), ...[...first.slice(FIRST_DISTINCT_PAGES), ...more].sort((a, b) => b[1] - a[1])];
    return ordered
      .slice(0, MAX_RESULTS)
      .map(([x, score, heading], rank) => {
        const [doc, anchor, title] = sections[x];
        const page = data.titles[doc];
        return [
          data.docs[doc],
          anchor ? `${page} > ${title}` : page,
          anchor ? `#${anchor}` : "",
          null,
          ordered.length - rank, // display order; the scores themselves are not comparable with Sphinx's
          `${data.docs[doc]}.md`,
          heading ? SearchResultKind.title : SearchResultKind.text,
        ];
      })
      .reverse();
  };

  const fallbackRows = () =>
    FALLBACK_PAGES.filter((name) => data.docs.includes(name))
      .map((name, rank) => {
        const doc = data.docs.indexOf(name);
        return [name, data.titles[doc], "", null, FALLBACK_PAGES.length - rank, `${name}.md`, SearchResultKind.text];
      })
      .reverse();

  /** A line above the results saying what was searched for, and which words were left out. */
  const explain = (current) => {
    const out = document.getElementById("search-results");
    if (!out || !Search.output || Search.output.parentNode !== out) return;
    const note = document.createElement("p");
    note.classList.add("search-note");
    const searched = [...new Set(current.groups.map((g) => g.phrase))];
    if (!searched.length)
      note.textContent = current.dropped.length
        ? `No page of the handbook uses: ${current.dropped.join(", ")}. You may find your answer among the common questions.`
        : "Those words are too common to search for: add a word about what you want to know, or see the common questions.";
    else {
      const also = [...new Set(current.groups.flatMap((g) => g.also))].filter((w) => !searched.includes(w)).slice(0, 6);
      note.textContent = `Searched for: ${searched.join(", ")}${also.length ? ` (also ${also.join(", ")})` : ""}.`;
      if (current.dropped.length) note.textContent += ` Not found in the handbook: ${current.dropped.join(", ")}.`;
    }
    out.insertBefore(note, Search.output);
  };

  // For tests and for tuning from the browser's console.
  window.HandbookSearch = { plan, scoreSections, rows, rarity };

  let current = null; // the plan of the query being searched (searches run one at a time)

  const originalParse = Search._parseQuery;
  const originalPerform = Search._performSearch;
  const originalSummary = Search.makeSearchSummary;

  Search._parseQuery = (query) => {
    parsed.clear();
    const parsedQuery = originalParse(query);
    try {
      current = plan(query);
      // Stems for the snippet, rarest last (Sphinx centres the snippet on the last one it finds),
      // and every word searched for, for highlighting.
      const all = new Map();
      current.groups.forEach((g) => g.alts.forEach((w, s) => all.set(s, Math.max(all.get(s) || 0, w * rarity(s)))));
      const searchTerms = new Set([...all.entries()].sort((a, b) => a[1] - b[1]).map(([s]) => s));
      const highlightTerms = parsedQuery[3];
      current.groups.forEach((g) => words(g.phrase).forEach((w) => stop.has(w) || highlightTerms.add(w)));
      current.rarity = all;
      current.highlightTerms = highlightTerms;
      return [parsedQuery[0], searchTerms, parsedQuery[2], highlightTerms, new Set()];
    } catch (error) {
      console.error(error);
      current = null;
      return parsedQuery;
    }
  };

  Search._performSearch = (...args) => {
    if (!current) return originalPerform(...args);
    try {
      explain(current);
      if (!current.groups.length) return fallbackRows();
      const results = rows(scoreSections(current.groups, current.keyDocs));
      return results.length ? results : fallbackRows();
    } catch (error) {
      console.error(error);
      return originalPerform(...args);
    }
  };

  // Each page is parsed once per search, though several of its sections may be listed.
  const parsed = new Map();
  const sectionText = (htmlText, anchor) => {
    if (!parsed.has(htmlText)) {
      const doc = new DOMParser().parseFromString(htmlText, "text/html");
      doc.querySelectorAll(".headerlink, script, style").forEach((el) => el.remove());
      parsed.set(htmlText, doc);
    }
    const doc = parsed.get(htmlText);
    const part = (anchor && doc.querySelector(`[role="main"] ${anchor}`)) || doc.querySelector('[role="main"]');
    if (!part) return "";
    // A glossary entry's anchor is its term: the snippet is the term and its definition.
    if (part.tagName === "DT") {
      let definition = part.nextElementSibling;
      while (definition && definition.tagName !== "DD") definition = definition.nextElementSibling;
      if (definition) return `${part.textContent}: ${definition.textContent}`;
    }
    // The result's title already shows the heading; the evidence label is a rating, not the answer.
    const body = part.cloneNode(true);
    body.querySelectorAll("h1, h2, h3, h4, h5, h6, .evidence, .crisis-link").forEach((el) => el.remove());
    return body.textContent.trim() ? body.textContent : part.textContent;
  };

  Search.makeSearchSummary = (htmlText, keywords, anchor) => {
    if (!current || !current.rarity) return originalSummary(htmlText, keywords, anchor);
    try {
      const text = sectionText(htmlText, anchor).replace(/\s+/g, " ").trim();
      if (!text) return null;
      let best = null;
      const found = new Set();
      for (const match of text.matchAll(/[\p{L}\p{N}]+/gu)) {
        const stem = stemOf(match[0]);
        const value = current.rarity.get(stem);
        if (value === undefined) continue;
        found.add(match[0].toLowerCase());
        if (!best || value > best.value) best = { value, at: match.index };
      }
      if (!best) return originalSummary(htmlText, keywords, anchor);
      let start = Math.max(best.at - 100, 0);
      if (start > 0) start = text.indexOf(" ", start) + 1 || start;
      const summary = document.createElement("p");
      summary.classList.add("context");
      summary.textContent =
        (start > 0 ? "..." : "") + text.substr(start, 240).trim() + (start + 240 < text.length ? "..." : "");
      // Sphinx highlights every entry of highlightTerms in the summary once it is added.
      found.forEach((w) => w.length > 2 && current.highlightTerms.add(w));
      return summary;
    } catch (error) {
      console.error(error);
      return originalSummary(htmlText, keywords, anchor);
    }
  };
})();
