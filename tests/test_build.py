"""Build: the HTML, PDF and EPUB each build from clean with zero warnings."""

import pytest
from conftest import sphinx_build


@pytest.mark.parametrize("builder", ["html", "latexpdf", "epub"])
def test_builds_from_clean_without_warnings(builder, tmp_path):
    result = sphinx_build(builder, tmp_path, extra=["-q"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr
    assert "ERROR" not in result.stderr, result.stderr
