"""What a tagged PDF (PDF/UA-1) must hold, read with pikepdf: the checks of tests/test_pdf_accessibility.py.

The pdfua checker (PyPI) covers part of PDF/UA-1; these checks read the structure tree themselves:

* every page's content is inside a marked-content sequence: tagged (an MCID that the structure tree
  reaches) or an artifact, and no tagged content is left out of the tree;
* the structure's text, read in the tree's order, is the pages' text in the order it is drawn;
* every Figure has alt text, every Table header cells (TH) that say what they head (/Scope, or /Headers on
  the data cells), every heading text, and heading levels never skip one on the way down (H2 to H4);
* every link annotation is tagged (a Link element reaches it) and has a description (/Contents);
* the document's language (/Lang), its title shown in the window (DisplayDocTitle), bookmarks, and the
  PDF/UA-1 claim in its XMP metadata.

``problems(path)`` returns one line per problem (an empty list for a good file), so that a test can both
assert a file is clean and assert that a file broken on purpose fails for the reason it was broken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pikepdf

PAINTING = {"Tj", "TJ", "'", '"', "Do", "sh", "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "BI", "EI"}
TEXT_SHOWING = {"Tj", "TJ", "'", '"'}
HEADING = re.compile(r"^/H([1-6])$")


# -- Text of the page content, by marked-content sequence ---------------------------------------------


def _to_unicode(font):
    """A font's code -> text map from its ToUnicode CMap, and its code width in bytes."""
    width = 2 if font.get("/Subtype") == "/Type0" else 1
    mapping = {}
    cmap = font.get("/ToUnicode")
    if cmap is None:
        return mapping, width
    data = cmap.read_bytes().decode("latin-1")

    def text(hexdigits):
        return bytes.fromhex(hexdigits).decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.DOTALL):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[int(src, 16)] = text(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.DOTALL):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block):
            lo, hi = int(lo, 16), int(hi, 16)
            if dst.startswith("["):
                for code, item in zip(range(lo, hi + 1), re.findall(r"<([0-9A-Fa-f]*)>", dst), strict=False):
                    mapping[code] = text(item)
            else:
                start = bytes.fromhex(dst[1:-1])
                for offset in range(hi - lo + 1):
                    last = int.from_bytes(start[-2:], "big") + offset
                    mapping[lo + offset] = (start[:-2] + last.to_bytes(2, "big")).decode("utf-16-be", "replace")
    return mapping, width


def _decode(raw, font_map):
    mapping, width = font_map
    return "".join(mapping.get(int.from_bytes(raw[i:i + width], "big"), "")
                   for i in range(0, len(raw) - width + 1, width))


@dataclass
class PageContent:
    """One page's content stream, read: text by MCID in drawing order, and what is drawn unmarked."""

    number: int
    mcids: list = field(default_factory=list)  # MCIDs in the order they open
    text: dict = field(default_factory=dict)  # MCID -> its text
    unmarked: list = field(default_factory=list)  # operators that paint outside any marked content
    artifacts: int = 0


def read_page(page, number):
    content = PageContent(number)
    fonts = {}
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    font_resources = resources.get("/Font", pikepdf.Dictionary())
    stack, font = [], None
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BDC":
            props = operands[1]
            mcid = props.get("/MCID") if isinstance(props, pikepdf.Dictionary) else None
            stack.append((str(operands[0]), None if mcid is None else int(mcid)))
            if mcid is not None:
                content.mcids.append(int(mcid))
                content.text.setdefault(int(mcid), "")
            elif str(operands[0]) == "/Artifact":
                content.artifacts += 1
        elif op == "BMC":
            stack.append((str(operands[0]), None))
            content.artifacts += str(operands[0]) == "/Artifact"
        elif op == "EMC":
            if stack:
                stack.pop()
        elif op == "Tf":
            name = str(operands[0])
            if name not in fonts:
                fonts[name] = _to_unicode(font_resources[name]) if name in font_resources else ({}, 1)
            font = fonts[name]
        if op in PAINTING and not stack:
            content.unmarked.append(op)
        if op in TEXT_SHOWING and stack and font is not None:
            mcid = next((m for _, m in reversed(stack) if m is not None), None)
            if mcid is None:
                continue
            pieces = operands[-1]
            if op == "TJ":
                text = "".join(_decode(bytes(item), font) for item in pieces if isinstance(item, pikepdf.String))
            else:
                text = _decode(bytes(pieces), font)
            content.text[mcid] += text
    return content


# -- The structure tree ---------------------------------------------------------------------------------


def _page_index(pdf):
    return {page.obj.objgen: i for i, page in enumerate(pdf.pages)}


def walk_structure(pdf):
    """(element, depth) for each structure element, in the tree's order (depth first)."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return

    def kids(node):
        k = node.get("/K")
        if k is None:
            return []
        return list(k) if isinstance(k, pikepdf.Array) else [k]

    stack = [(kid, 1) for kid in reversed(kids(root))]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, pikepdf.Dictionary) and "/S" in node:
            yield node, depth
            stack.extend((kid, depth + 1) for kid in reversed(kids(node)))


def _kids(node):
    k = node.get("/K")
    return list(k) if isinstance(k, pikepdf.Array) else ([] if k is None else [k])


def _is_element(node):
    return isinstance(node, pikepdf.Dictionary) and "/S" in node


def content_items(element, pages, deep=False):
    """The element's content in the order of its /K: ('mcid', page, n) and ('annotation', objgen); with
    deep, its child elements' content too, each where it stands in /K."""
    page = element.get("/Pg")
    for item in _kids(element):
        if _is_element(item):
            if deep:
                yield from content_items(item, pages, deep=True)
        elif isinstance(item, pikepdf.Dictionary):
            kind = item.get("/Type")
            if kind == "/MCR":
                pg = item.get("/Pg", page)
                yield ("mcid", pages.get(pg.objgen) if pg is not None else None, int(item["/MCID"]))
            elif kind == "/OBJR":
                yield ("annotation", item["/Obj"].objgen)
        else:
            try:
                mcid = int(item)
            except (TypeError, ValueError):
                continue
            yield ("mcid", pages.get(page.objgen) if page is not None else None, mcid)


def element_text(element, pages, contents):
    """The text of an element and everything under it, in the tree's order."""
    return "".join(contents[item[1]].text.get(item[2], "") for item in content_items(element, pages, deep=True)
                   if item[0] == "mcid" and item[1] is not None)


def _words(text):
    return re.sub(r"[\s\u00ad-]+", " ", text).split()


# -- The checks --------------------------------------------------------------------------------------------


_READ = {}


def _read(path):
    """The open PDF, its page index and each page's content, read once per file (and per change to it)."""
    key = (str(path), path.stat().st_mtime_ns if hasattr(path, "stat") else 0)
    if key not in _READ:
        pdf = pikepdf.open(path)
        _READ[key] = (pdf, _page_index(pdf), [read_page(page, i) for i, page in enumerate(pdf.pages)])
    return _READ[key]


def problems(path):
    """Every problem found, one line each; [] when the file passes every check."""
    found = []
    pdf, pages, contents = _read(path)
    root = pdf.Root

    # The document: structure, language, title, bookmarks, the PDF/UA claim.
    if "/StructTreeRoot" not in root:
        found.append("no structure tree (/StructTreeRoot)")
    if not bool(root.get("/MarkInfo", {}).get("/Marked", False)):
        found.append("not marked as tagged (/MarkInfo /Marked true)")
    lang = str(root.get("/Lang", ""))
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
        found.append(f"no document language (/Lang is {lang!r})")
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        found.append("the viewer is not asked to show the title (/ViewerPreferences /DisplayDocTitle)")
    title = str(pdf.docinfo.get("/Title", "")) if pdf.trailer.get("/Info") is not None else ""
    if not title.strip():
        found.append("no document title (/Info /Title)")
    if "/Outlines" not in root or "/First" not in root.Outlines:
        found.append("no bookmarks (/Outlines)")
    metadata = root.get("/Metadata")
    xmp = metadata.read_bytes().decode("utf-8", "replace") if metadata is not None else ""
    if not re.search(r"pdfuaid:part(=\"1\"|>1<)", xmp):
        found.append("no PDF/UA-1 claim in the XMP metadata (pdfuaid:part 1)")

    # Page content: marked, and tagged content in the tree.
    for content in contents:
        if content.unmarked:
            found.append(f"page {content.number + 1}: content outside any marked-content sequence "
                         f"(neither tagged nor an artifact): {sorted(set(content.unmarked))}")

    elements = list(walk_structure(pdf))
    struct_order, tagged_annotations = [], set()  # (page, mcid) in the tree's order; links reached
    for element in _kids(root.get("/StructTreeRoot", pikepdf.Dictionary())):
        if _is_element(element):
            for item in content_items(element, pages, deep=True):
                if item[0] == "mcid":
                    struct_order.append(item[1:])
                else:
                    tagged_annotations.add(item[1])
    previous_level = 0
    for element, _depth in elements:
        role = str(element["/S"])
        page_number = pages.get(element["/Pg"].objgen, -1) + 1 if "/Pg" in element else "?"
        if role == "/Figure":
            alt = str(element.get("/Alt", "")).strip() or str(element.get("/ActualText", "")).strip()
            if not alt:
                found.append(f"page {page_number}: a Figure without alt text")
        elif role == "/Table":
            cells = [e for e, _ in walk_structure_from(element) if str(e["/S"]) in ("/TH", "/TD")]
            headers = [c for c in cells if str(c["/S"]) == "/TH"]
            data = [c for c in cells if str(c["/S"]) == "/TD"]
            if data and not headers:
                found.append(f"page {page_number}: a Table without header cells (TH)")
            elif data and not any("/Scope" in h.get("/A", {}) for h in headers) \
                    and not any("/Headers" in d.get("/A", {}) for d in data):
                found.append(f"page {page_number}: a Table whose header cells head nothing (no /Scope, "
                             "no /Headers)")
        match = HEADING.match(role)
        if match:
            level = int(match.group(1))
            text = element_text(element, pages, contents).strip()
            if not text:
                found.append(f"page {page_number}: an empty heading {role[1:]}")
            if level > previous_level + 1:
                found.append(f"page {page_number}: heading {role[1:]} {text[:60]!r} skips a level "
                             f"(after H{previous_level})" if previous_level else
                             f"page {page_number}: the first heading is {role[1:]} {text[:60]!r}, not H1")
            previous_level = level

    # Every tagged MCID in the tree; the tree's order is the order the text is drawn in. List markers
    # (Lbl) are left out of the comparison: WeasyPrint draws a marker after its item's text, at the
    # item's start, and the tree rightly puts it first.
    labels = {item[1:] for element, _ in elements if str(element["/S"]) == "/Lbl"
              for item in content_items(element, pages, deep=True) if item[0] == "mcid"}
    drawn = [(c.number, m) for c in contents for m in c.mcids]
    in_tree = set(struct_order)
    struct_order = [s for s in struct_order if s not in labels]
    in_tree_unlabelled = in_tree - labels
    orphans = [d for d in drawn if d not in in_tree]
    if orphans:
        found.append(f"{len(orphans)} marked-content sequence(s) tagged but not in the structure tree, the "
                     f"first on page {orphans[0][0] + 1}")
    # Only sequences with text: an image is drawn after the text around it, wherever it stands.
    drawn_set = {(p, m) for p, m in drawn if contents[p].text.get(m, "").strip()}
    order = [s for s in struct_order if s in drawn_set]
    page_order = [d for d in drawn if d in in_tree_unlabelled and d in drawn_set]
    if order != page_order:
        struct_words = _words("".join(contents[p].text.get(m, "") for p, m in order))
        page_words = _words("".join(contents[p].text.get(m, "") for p, m in page_order))
        first = next((i for i, (a, b) in enumerate(zip(struct_words, page_words, strict=False)) if a != b),
                     min(len(struct_words), len(page_words)))
        found.append("the structure's text is not in the order of the page text: from word "
                     f"{first}, the structure reads {' '.join(struct_words[first:first + 8])!r}, "
                     f"the page {' '.join(page_words[first:first + 8])!r}")

    # Links: tagged, with a description.
    for i, page in enumerate(pdf.pages):
        for annot in page.obj.get("/Annots", []):
            if annot.get("/Subtype") != "/Link":
                continue
            if annot.objgen not in tagged_annotations:
                found.append(f"page {i + 1}: a link annotation that no Link element reaches")
            if not str(annot.get("/Contents", "")).strip():
                found.append(f"page {i + 1}: a link without a description (/Contents)")
    return found


def walk_structure_from(element):
    stack = [element]
    while stack:
        node = stack.pop()
        yield node, 0
        k = node.get("/K")
        for kid in reversed(list(k) if isinstance(k, pikepdf.Array) else [k] if k is not None else []):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                stack.append(kid)


def reading_text(path):
    """The document's text in the structure tree's order, one line per marked-content sequence: the text
    a screen reader reads, without running heads and page numbers (artifacts), list markers or the text
    drawn inside figures (a diagram's labels; its alt text stands for it)."""
    pdf, pages, contents = _read(path)
    lines = []

    def visit(element):
        if str(element["/S"]) in ("/Lbl", "/Figure"):
            return
        page = element.get("/Pg")
        for item in _kids(element):
            if _is_element(item):
                visit(item)
            elif not isinstance(item, pikepdf.Dictionary) and page is not None:
                lines.append(contents[pages[page.objgen]].text.get(int(item), ""))
            elif isinstance(item, pikepdf.Dictionary) and item.get("/Type") == "/MCR":
                pg = item.get("/Pg", page)
                lines.append(contents[pages[pg.objgen]].text.get(int(item["/MCID"]), ""))

    for element in _kids(pdf.Root.StructTreeRoot):
        if _is_element(element):
            visit(element)
    return "\n".join(lines)


def heading_outline(path):
    """The headings as (level, text), in the tree's order: what a screen reader lists."""
    pdf, pages, contents = _read(path)
    return [(int(HEADING.match(str(e["/S"])).group(1)), element_text(e, pages, contents).strip())
            for e, _ in walk_structure(pdf) if HEADING.match(str(e["/S"]))]
