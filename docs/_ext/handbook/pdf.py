"""The PDF: a tagged PDF (PDF/UA-1), written by WeasyPrint from one HTML document of the whole handbook.

``sphinx-build -M pdf`` (``make pdf``) runs the ``pdf`` builder below: Sphinx's single-page HTML builder
(every page in toctree order, as Sphinx's LaTeX builder would assemble them), with

- a book around the pages: a title page (title, edition and date), crisis help and the edition notice on
  page 2, a contents page with page numbers, each chapter on a new page and numbered ("Chapter 1",
  sections 1.1, 1.2), the pages in ``handbook_appendices`` as appendices ("Appendix A");
- ids made unique across pages (two pages may both have a section called "Sources"), and every link to
  another page or section pointing at its id in the book;
- its own print stylesheet, ``docs/_pdf/handbook-pdf.css`` (A4 pages whose text also fits US Letter,
  running head and foot, contents page numbers with ``target-counter()``, table headers repeated);
- WeasyPrint's ``pdf/ua-1`` variant: a structure tree in reading order, headings, lists, tables (header
  cells as TH, each data cell pointing at its headers), figures with their alt text, links, bookmarks,
  the language and the title (shown in the viewer's title bar, DisplayDocTitle). What WeasyPrint leaves
  out is added here: each link annotation's description is its text (``finish_pdf``; WeasyPrint gives the
  target's address), each header cell says what it heads (/Scope), each icon array (an inline SVG, which
  the web page names with ``aria-label``) gets the ``<title>`` WeasyPrint reads as its alt text, and the
  running head and page number become pagination artifacts (``margins_as_artifacts``), all before
  WeasyPrint writes the file.

Reproducible: the dates in the PDF (its information dictionary) come from SOURCE_DATE_EPOCH, and its /ID
from the file's content, so two builds of one commit are byte-identical (tests/test_reproducible.py).
"""

from __future__ import annotations

import html
import os
import re
import time

from docutils import nodes
from sphinx import addnodes
from sphinx.builders.singlehtml import SingleFileHTMLBuilder
from sphinx.locale import __
from sphinx.util import logging
from sphinx.util.display import progress_message

from . import edition

logger = logging.getLogger(__name__)

STYLESHEET = os.path.join(os.path.dirname(__file__), "..", "..", "_pdf", "handbook-pdf.css")
BOOK_HTML = "handbook.html"  # the one HTML document WeasyPrint reads, kept beside the PDF for debugging
# With this environment variable set to 1, the builder writes BOOK_HTML and stops: the reproducibility test
# compares a clean build's document with `make`'s, and prints a small one twice, instead of laying out all
# 138 pages a second time (about 13 s of `make test`).
BOOK_ONLY = "HANDBOOK_PDF_DOCUMENT_ONLY"


def source_date():
    return int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))


# -- The book's doctree ------------------------------------------------------------------------------


def _walk_docs(node, docname, visit):
    """Call visit(node, docname) for every element, docname being the page it came from."""
    if isinstance(node, addnodes.start_of_file):
        docname = node["docname"]
    visit(node, docname)
    for child in node.children:
        if isinstance(child, nodes.Element):
            _walk_docs(child, docname, visit)


def unique_ids(doctree, root):
    """Prefix every id of an included page with its name ("safety--sources"): ids are unique per page,
    not across the book. Links are pointed at the new ids: Sphinx's "#document-PAGE#ID" and docutils'
    refids (footnotes, citations: ids of the page the link is on, or else of the root page)."""
    ids_of = {}

    def collect(node, docname):
        ids_of.setdefault(docname, set()).update(node.get("ids", []))

    _walk_docs(doctree, root, collect)

    def new_id(docname, old):
        return old if docname == root else f"{docname}--{old}"

    def rename(node, docname):
        if node.get("ids"):
            node["ids"] = [new_id(docname, i) for i in node["ids"]]
        if node.get("backrefs"):
            node["backrefs"] = [new_id(docname, i) if i in ids_of.get(docname, ()) else i
                                for i in node["backrefs"]]
        if isinstance(node, nodes.reference) or node.get("refid"):
            refid = node.get("refid")
            if refid:
                node["refid"] = new_id(docname, refid) if refid in ids_of.get(docname, ()) else refid
            refuri = node.get("refuri", "")
            match = re.fullmatch(r"#document-([^#]+)(?:#(.+))?", refuri)
            if match:
                target_doc, target_id = match.groups()
                node["refuri"] = "#" + (new_id(target_doc, target_id) if target_id else f"document-{target_doc}")

    _walk_docs(doctree, root, rename)


def chapter_starts(doctree, root):
    """The start_of_file nodes of the pages the root page's toctrees list, in order (not those of pages
    that an included page's own toctree brings in). Walked from the top: the nodes of an inlined page keep
    their parents in the page's own doctree."""
    starts = []

    def visit(node, docname):
        if isinstance(node, addnodes.start_of_file):
            if docname == root:
                starts.append(node)
            docname = node["docname"]
        for child in node.children:
            if isinstance(child, nodes.Element):
                visit(child, docname)

    visit(doctree, root)
    return starts


APPENDIX_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def number_chapters(doctree, root, appendices):
    """Chapters numbered 1, 2, ... and appendices A, B, ...; their sections 1.1, 1.2 (A.1, ...).
    Returns the contents: [(label, title, id, [(label, title, id), ...]), ...]."""
    contents = []
    chapter = appendix = 0
    in_appendix = False
    for sof in chapter_starts(doctree, root):
        in_appendix = in_appendix or sof["docname"] in appendices
        section = next((c for c in sof.children if isinstance(c, nodes.section)), None)
        if section is None:
            continue
        if in_appendix:
            number, label, css = APPENDIX_LETTERS[appendix], "Appendix", "appendix"
            appendix += 1
        else:
            chapter += 1
            number, label, css = str(chapter), "Chapter", "chapter"
        section["classes"] += ["chapter", css]
        title = section.next_node(nodes.title)
        entry = (f"{label} {number}", title.astext(), section["ids"][0], [])
        title.insert(0, nodes.inline("", f"{label} {number} ", classes=["chapter-number"]))
        count = 0
        for sub in section.children:
            if not isinstance(sub, nodes.section):
                continue
            count += 1
            sub_title = sub.next_node(nodes.title)
            entry[3].append((f"{number}.{count}", sub_title.astext(), sub["ids"][0]))
            sub_title.insert(0, nodes.inline("", f"{number}.{count} ", classes=["section-number"]))
        contents.append(entry)
    return contents


# -- The HTML around the pages -----------------------------------------------------------------------


def _e(text):
    return html.escape(text, quote=True)


def title_page(config):
    return (f'<div class="title-page">'
            f'<p class="edition">{_e(edition.edition_statement(config))}</p>'
            f'<p class="authors">{_e(config.author)}</p></div>\n')


def edition_notice(config):
    year = edition.edition_date(config).year
    changes = (" The appendix <em>What changed</em> lists what changed in each edition."
               if "changes" in config.handbook_appendices else "")
    url = _e(config.html_baseurl)
    return (f'<div class="edition-notice">'
            f'<p><strong>{_e(config.project)}</strong><br/>{_e(edition.edition_statement(config))}.</p>'
            f'<p><strong>How to cite this edition</strong><br/>{_e(config.author)} ({year}). '
            f'<em>{_e(config.project)}</em>, edition {_e(config.version)}. <a href="{url}">{url}</a></p>'
            f'<p>The latest edition is at the same address, as a website, a PDF and an EPUB.{changes}</p>'
            f'<p>\u00a9 {_e(config.copyright)}.</p></div>\n')


def contents_page(contents):
    items = []
    for label, title, ident, sections in contents:
        subs = "".join(f'<li><a href="#{_e(i)}"><span class="number">{_e(n)}</span> {_e(t)}</a></li>'
                       for n, t, i in sections)
        items.append(f'<li class="toc-chapter"><a href="#{_e(ident)}"><span class="number">{_e(label)}</span> '
                     f'{_e(title)}</a>' + (f'<ol>{subs}</ol>' if subs else "") + "</li>")
    return f'<nav class="contents" aria-labelledby="contents-title"><h2 id="contents-title">Contents</h2>' \
           f'<ol>{"".join(items)}</ol></nav>\n'


# -- The builder ---------------------------------------------------------------------------------------


class PDFBuilder(SingleFileHTMLBuilder):
    """The whole handbook as one HTML document, printed to a tagged PDF by WeasyPrint."""

    name = "pdf"
    format = "html"
    epilog = __("The PDF is in %(outdir)s.")
    search = False
    copysource = False
    supported_image_types = ["image/svg+xml", "image/png", "image/gif", "image/jpeg"]

    def get_theme_config(self):
        return "basic", {}

    def init(self):
        super().init()
        self.use_index = False

    def write_documents(self, _docnames):
        self.prepare_writing(self.env.all_docs.keys())
        root = self.config.root_doc
        with progress_message(__("assembling the book")):
            doctree = self.assemble_doctree()
            self.env.toc_secnumbers = self.assemble_toc_secnumbers()
            self.env.toc_fignumbers = self.assemble_toc_fignumbers()
            self.write_doc_serialized(root, doctree)  # the images it uses, copied in finish()
            unique_ids(doctree, root)
            contents = number_chapters(doctree, root, self.config.handbook_appendices)
            boxes = {}  # page -> its crisis boxes (walked from the top: inlined pages' nodes keep old parents)
            _walk_docs(doctree, root, lambda node, docname: boxes.setdefault(docname, []).append(node)
                       if isinstance(node, nodes.admonition) and "disclaimer" in node["classes"] else None)
            disclaimer = next((box for page, found in boxes.items() if page != root for box in found), None)
            # The root page's own box would come after the last appendix: page 2 has it instead.
            for box in boxes.get(root, []):
                box.parent.remove(box)
            front = nodes.container(classes=["front-matter"])
            front += nodes.raw("", title_page(self.config), format="html")
            crisis = nodes.container(classes=["crisis-page"])
            if disclaimer is not None:
                box = disclaimer.deepcopy()
                for node in box.findall(nodes.Element):
                    node["ids"] = []
                crisis += box
            crisis += nodes.raw("", edition_notice(self.config), format="html")
            front += crisis
            front += nodes.raw("", contents_page(contents), format="html")
            top = doctree.next_node(nodes.section)
            top["classes"].append("book")
            top.insert(top.index(top.next_node(nodes.title)) + 1, front)
        with progress_message(__("writing the book")):
            doctree.settings = self.docsettings
            self.secnumbers = {}
            self.fignumbers = self.env.toc_fignumbers.get(root, {})
            self.imgpath = "_images"
            self.dlpath = "_downloads"
            self.current_docname = root
            visitor = self.create_translator(doctree, self)
            doctree.walkabout(visitor)
            self.book_body = "".join(visitor.fragment)

    def book_html(self):
        config = self.config
        body = self.book_body.replace(' role="doc-biblioentry"', ' role="listitem"')
        # Header cells say what they head: a column (the header row) or a row (a table's stub column).
        body = body.replace('<th class="head">', '<th class="head" scope="col">')
        body = body.replace('<th class="stub">', '<th class="stub" scope="row">')
        # An icon array's text alternative as the SVG's <title>, where WeasyPrint looks for it.
        body = re.sub(r'(<svg [^>]*aria-label="([^"]*)"[^>]*>)', r"\1<title>\2</title>", body)
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(source_date()))
        return (f'<!DOCTYPE html>\n<html lang="{_e(config.language or "en")}">\n<head>\n'
                f'<meta charset="utf-8"/>\n<title>{_e(config.project)}</title>\n'
                f'<meta name="author" content="{_e(config.author)}"/>\n'
                f'<meta name="description" content="{_e(edition.edition_statement(config))}"/>\n'
                f'<meta name="dcterms.created" content="{date}"/>\n'
                f'<meta name="dcterms.modified" content="{date}"/>\n'
                f'<meta name="generator" content="Sphinx and WeasyPrint"/>\n'
                f'</head>\n<body>\n{body}\n</body>\n</html>\n')

    def stylesheet(self):
        """docs/_pdf/handbook-pdf.css, with the running head ("The ..., Edition 1.0") filled in."""
        with open(STYLESHEET, encoding="utf-8") as f:
            css = f.read()
        head = f"{self.config.project}, Edition {self.config.version}"
        return css.replace('"HANDBOOK-RUNNING-HEAD"', _css_string(head))

    def finish(self):
        self.copy_image_files()
        with progress_message(__("writing the PDF")):
            path = os.path.join(self.outdir, BOOK_HTML)
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.book_html())
            if os.environ.get(BOOK_ONLY) == "1":
                return  # the document WeasyPrint would print, without printing it (tests/test_reproducible.py)
            write_pdf(path, os.path.join(self.outdir, self.config.handbook_pdf_name), self.stylesheet())


def _css_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- WeasyPrint ------------------------------------------------------------------------------------------


def _link_text(box, parents):
    """The whole text of the link a box draws: the text of the <a> element the box is in (the box may be a
    line of it, an element inside it such as the <em> of "et al.", or its ::after, such as a contents
    line's page number)."""
    element = getattr(box, "element", None)
    while element is not None and element.tag != "a":
        element = parents.get(element)
    if element is not None:
        return "".join(element.itertext())
    return "".join(_link_text(child, parents) if not hasattr(child, "text") else child.text
                   for child in getattr(box, "children", ()))


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def finish_pdf(document, pdf, parents):
    """Before the PDF is written: each link's description is its text (WeasyPrint gives its target), and
    each table header cell says whether it heads a column or a row (/Scope), as well as the /Headers
    WeasyPrint gives each data cell."""
    import pydyf

    for page in document.pages:
        for box in _boxes(page._page_box):
            if getattr(box, "link_annotation", None) is not None:
                text = " ".join(_link_text(box, parents).split())
                if text:
                    box.link_annotation["Contents"] = pydyf.String(text)
            mark = getattr(box, "mark", None)
            if mark is not None and box.element_tag == "th":
                mark["A"]["Scope"] = "/Row" if box.element.get("scope") == "row" else "/Column"


def _object(pdf, reference):
    """The pydyf object a reference (b"12 0 R") names."""
    return pdf.objects[int(reference.split()[0])]


def margins_as_artifacts(pdf):
    """The running head and the page number (CSS margin boxes) as pagination artifacts. WeasyPrint marks
    their text with MCIDs whose structure elements hang outside the tree (PDF/UA-1 has no place for them
    in it): each such sequence becomes /Artifact <</Type /Pagination>>, and leaves the parent tree."""
    import pydyf

    root = _object(pdf, pdf.catalog["StructTreeRoot"])
    reachable, stack = set(), [_object(pdf, ref) for ref in root["K"]]
    while stack:
        element = stack.pop()
        reachable.add(element.number)
        for kid in element.get("K", ()):
            if isinstance(kid, bytes):
                child = _object(pdf, kid)
                if isinstance(child, pydyf.Dictionary) and child.get("Type") == "/StructElem":
                    stack.append(child)
    nums = _object(pdf, root["ParentTree"])["Nums"]
    pages = [_object(pdf, ref) for ref in pdf.page_references]
    for i in range(0, len(nums), 2):
        elements = nums[i + 1]
        if not isinstance(elements, pydyf.Array):
            continue  # an annotation's entry
        outside = {mcid for mcid, ref in enumerate(elements) if int(ref.split()[0]) not in reachable}
        if not outside:
            continue
        chunks = _object(pdf, pages[nums[i]]["Contents"]).stream
        for j, chunk in enumerate(chunks):
            if isinstance(chunk, pydyf.Dictionary) and chunk.get("MCID") in outside and chunks[j + 1] == b"BDC":
                chunks[j - 1], chunks[j] = "/Artifact", pydyf.Dictionary({"Type": "/Pagination"})
        for mcid in outside:
            elements[mcid] = b"null"


def write_pdf(html_path, pdf_path, css):
    import weasyprint

    source = weasyprint.HTML(filename=html_path)
    parents = {child: parent for parent in source.etree_element.iter() for child in parent}

    def finish(document, pdf):
        finish_pdf(document, pdf, parents)
        margins_as_artifacts(pdf)

    document = source.render(stylesheets=[weasyprint.CSS(string=css)], pdf_variant="pdf/ua-1")
    # pdf_identifier=True: the file's /ID is a hash of its content, the same for the same content.
    document.write_pdf(pdf_path, pdf_variant="pdf/ua-1", finisher=finish, pdf_identifier=True)


def setup(app):
    app.add_builder(PDFBuilder)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
