"""Evidence labels: the `evidence` directive, one of a fixed set of levels."""

from __future__ import annotations

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util.docutils import SphinxDirective

from .util import warn

EVIDENCE_LEVELS = {
    "approved": "Approved use",
    "rct": "Randomised trials",
    "small-studies": "Small or open-label studies",
    "preclinical": "Laboratory or animal studies",
    "expert": "Case reports or expert opinion",
}
EVIDENCE_SCALE_LABEL = "evidence-scale"


class EvidenceDirective(SphinxDirective):
    """```{evidence} rct``` -- a label of the strength of the evidence for a section."""

    required_arguments = 1
    has_content = True

    def run(self):
        level = self.arguments[0].strip()
        if level not in EVIDENCE_LEVELS:
            known = ", ".join(EVIDENCE_LEVELS)
            warn(f"unknown evidence level '{level}' (use one of: {known})",
                 location=self.get_location(), subtype="evidence")
            return []
        box = nodes.container(classes=["evidence", f"evidence-{level}"])
        self.set_source_info(box)
        label = nodes.paragraph(classes=["evidence-label"])
        ref = pending_xref("", refdomain="std", reftype="ref", reftarget=EVIDENCE_SCALE_LABEL,
                           refexplicit=True, refwarn=True)
        ref += nodes.inline(text="Evidence")
        label += ref
        label += nodes.Text(": ")
        label += nodes.strong(text=EVIDENCE_LEVELS[level])
        if self.content:
            label += nodes.Text(" \N{EM DASH} ")
            inline_nodes, messages = self.state.inline_text(" ".join(self.content), self.lineno)
            label += inline_nodes
            label += messages
        box += label
        return [box]


def setup(app):
    app.add_directive("evidence", EvidenceDirective)
