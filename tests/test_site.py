"""The report site in a browser (rnalib.report.sitecheck): a tiny hand-made site with one deliberate defect per page, each
reported against its page, clean pages reporting nothing; the pure helpers without a browser. The real rehearsal
site is checked in tests/test_workflow.py."""
import base64

import pytest

from rnalib.report import pages, sitecheck
from rnalib.cli.main import main

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
STDERR = '<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stderr">'
CODE = '<div class="jp-CodeCell"><div class="jp-Cell-inputWrapper"><pre>x = 1</pre></div></div>'


def page(body, head=pages.SITE_STYLE, nav=pages.nav_bar()):
    return f'<!doctype html><html><head><meta charset="utf-8">{head}</head><body>{nav}{body}</body></html>'


SITE = {
    # clean: the nav bar's pages, anchors (percent-encoded as nbconvert writes them), images, an external link
    "00_summary.html": page(f'<h1 id="Mean-%C2%B1-sd">Mean ± sd</h1>{CODE}<a href="#Mean-%C2%B1-sd">¶</a>'
                            '<a href="03_interactions_compare.html#part">part</a> <a href="manifest.json">m</a>'
                            '<a href="https://example.org/paper">paper</a> <a href="#">top</a>'
                            f'<img src="data:image/png;base64,{PNG}"> <img src="dot.png">'),
    "03_interactions_compare.html": page('<h2 id="part">part</h2>'
                                         '<div style="overflow-x:auto"><table style="width:2500px"><tr><td>wide '
                                         'but in its own scroll box</td></tr></table></div>'),
    "07_localization_compare.html": page("<p>study B</p>"),
    "runs.html": page("<p>run log</p>", nav=pages.nav_bar(show_code_button=False)),
    "index.html": '<!doctype html><html><head><meta http-equiv="refresh" content="0; url=00_summary.html">'
                  '</head><body><a href="00_summary.html">report</a></body></html>',
    # one defect each
    "broken_link.html": page('<a href="missing.html">gone</a> <a href="00_summary.html#nowhere">anchor</a>'),
    "missing_image.html": page('<img src="nothere.png"> <img src="data:image/png;base64,AAAA">'),
    "traceback.html": page("<pre>Traceback (most recent call last):\n  File x\nValueError: boom</pre>"),
    "stderr.html": page(f"{STDERR}<pre>RuntimeWarning: something on stderr</pre></div>"),
    "wide.html": page('<div id="banner" style="width:3000px">wide</div>'),
    "jserror.html": page("<script>throw new Error('boom from a script')</script>"),
    "code_shown.html": page(CODE, head=""),  # no site style: code visible before the button is pressed
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for name, text in SITE.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "dot.png").write_bytes(base64.b64decode(PNG))
    (root / "manifest.json").write_text("{}")
    return root


@pytest.fixture(scope="module")
def checked(site, chromium):
    return sitecheck.check_site(site, chromium=chromium)


def problems(result, name):
    return next(p for p in result.pages if p.page == name).problems


@pytest.mark.parametrize("name", ["00_summary.html", "03_interactions_compare.html", "07_localization_compare.html",
                                  "runs.html", "index.html"])
def test_a_clean_page_reports_nothing(checked, name):
    assert problems(checked, name) == []


def test_every_page_is_opened_and_photographed(checked, site):
    assert [p.page for p in checked.pages] == sorted(SITE)
    shots = sorted(p.name for p in (site / "screenshots").glob("*.png"))
    assert shots == sorted(name.replace(".html", ".png") for name in SITE)
    summary = next(p for p in checked.pages if p.page == "00_summary.html")
    assert summary.external_links == ["https://example.org/paper"]  # listed, never fetched


def test_broken_links_are_reported(checked):
    found = problems(checked, "broken_link.html")
    assert len(found) == 2
    assert "broken link 'missing.html': missing.html does not exist" in found
    assert "broken link '00_summary.html#nowhere': no element with id 'nowhere' in 00_summary.html" in found


def test_images_that_do_not_render_are_reported(checked):
    assert problems(checked, "missing_image.html") == ["image 1 (nothere.png) does not render",
                                                       "image 2 (data:image/png;base64) does not render"]


def test_tracebacks_and_stderr_output_are_reported(checked):
    assert problems(checked, "traceback.html") == ["shows an error: 'Traceback (most recent call last)'"]
    assert problems(checked, "stderr.html") == ["shows error/stderr output: 'RuntimeWarning: something on stderr'"]


def test_horizontal_overflow_names_the_widest_element(checked):
    [found] = problems(checked, "wide.html")
    assert found.startswith("overflows horizontally:") and "div#banner (3000 px wide" in found


def test_javascript_errors_are_reported(checked):
    [found] = problems(checked, "jserror.html")
    assert found.startswith("JavaScript error:") and "boom from a script" in found


def test_code_visible_before_the_toggle_is_reported(checked):
    assert problems(checked, "code_shown.html") == ["code is visible before the code button is clicked"]


def test_cli_prints_one_line_per_problem_naming_the_page(site, chromium, capsys):
    assert main(["check-site", str(site), "--no-screenshots"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 9 and all(line.split(": ", 1)[0] in SITE for line in lines)
    assert f"{len(SITE)} pages checked at 1280 px" in captured.out and "9 problem(s)" in captured.out


def test_cli_on_a_folder_without_pages_is_one_line(tmp_path, capsys):
    assert main(["check-site", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no *.html pages to check" in err


# The helpers, without a browser.

def test_links_resolve_to_files_and_anchors_inside_the_folder(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="x-%CE%B8">θ</h1><a name="old"></a>')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("<p>")
    ids = {}
    assert sitecheck.link_problem("a.html#x-%CE%B8", "b.html", tmp_path, ids) is None
    assert sitecheck.link_problem("a.html#old", "b.html", tmp_path, ids) is None
    assert sitecheck.link_problem("sub/", "b.html", tmp_path, ids) is None
    assert "no element with id 'y'" in sitecheck.link_problem("a.html#y", "b.html", tmp_path, ids)
    assert "points outside the report folder" in sitecheck.link_problem("../x.html", "b.html", tmp_path, ids)
    internal, external = sitecheck.classify_links(["#", "a.html", "https://x.org", "mailto:a@b", "a.html"])
    assert internal == ["a.html"] and external == ["https://x.org", "mailto:a@b"]


def test_redirect_pages_are_recognised(tmp_path):
    (tmp_path / "index.html").write_text('<meta http-equiv="refresh" content="0; url=00_summary.html">')
    (tmp_path / "plain.html").write_text("<p>")
    assert sitecheck.meta_refresh(tmp_path / "index.html") == "00_summary.html"
    assert sitecheck.meta_refresh(tmp_path / "plain.html") is None


def test_browser_missing_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "a.html").write_text("<p>")
    monkeypatch.setenv(sitecheck.CHROMIUM_ENV, str(tmp_path / "no-chromium"))
    monkeypatch.setattr(sitecheck.shutil, "which", lambda name: None)
    with pytest.raises(sitecheck.SiteCheckError, match="Chromium not found"):
        sitecheck.check_site(tmp_path)
