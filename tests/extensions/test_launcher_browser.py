"""JupyterLab's launcher in headless Chromium: the lab extension shows the data catalog and every
twin's dashboard; the catalog card opens the catalog browser running on the DTE kernel, a twin's
card opens its dashboard; nothing is fetched from outside the machine."""

import re

import pytest

from hub.dashboards.twin_notebooks import TWIN_NOTEBOOKS
from tests.browser import browser_page

pytestmark = pytest.mark.browser


def test_the_launcher_opens_the_catalog_and_the_twin_dashboards(server):
    from playwright.sync_api import expect

    url, session, home, token = server
    titles = [d["title"] for d in session.get(f"{url}/dte/api/launcher").json()["dashboards"]]
    assert len(titles) == len(TWIN_NOTEBOOKS)
    with browser_page() as (page, requests, errors):
        page.goto(f"{url}/lab?token={token}")
        section = page.locator(".jp-Launcher-section", has_text="DTE Hub")
        expect(section).to_be_visible(timeout=90_000)
        cards = section.locator(".jp-LauncherCard")
        expect(cards).to_have_count(1 + len(titles), timeout=30_000)
        labels = cards.locator(".jp-LauncherCard-label").all_inner_texts()
        assert labels[0] == "Data catalog" and sorted(labels[1:]) == sorted(titles)

        with page.expect_popup() as opened:
            cards.filter(has_text="Flood early warning").click()
        assert opened.value.url.endswith("/voila/render/notebooks/flood.ipynb")
        opened.value.close()

        cards.filter(has_text="Data catalog").click()
        # the notebook runs on the DTE kernel and shows the catalog browser with its entries
        expect(page.get_by_text(re.compile(r"\d+ of \d+ entries match"))).to_be_visible(
            timeout=120_000
        )
        expect(page.locator(".jp-Notebook .jp-KernelName, .jp-Toolbar-kernelName")).to_contain_text(
            "DTE", timeout=30_000
        )
        assert requests.offsite == []
        assert [e for e in errors if "favicon" not in e] == []
    assert (home / "DTE data catalog.ipynb").is_file()


def test_a_notebook_without_a_kernel_opens_on_the_dte_kernel_without_asking(server):
    """A notebook from elsewhere (no kernelspec in its metadata) starts the DTE kernel at once,
    rather than stopping at JupyterLab's "Select Kernel" dialog."""
    import nbformat
    from playwright.sync_api import expect

    url, session, home, token = server
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("import os; print(os.environ.get('DTE_KERNEL'))")]
    nbformat.write(book, home / "from elsewhere.ipynb")
    with browser_page() as (page, requests, errors):
        page.goto(f"{url}/lab/tree/from elsewhere.ipynb?token={token}")
        kernel_name = page.locator(".jp-Notebook-toolbarKernelName, .jp-Toolbar-kernelName")
        expect(kernel_name.first).to_contain_text("DTE", timeout=90_000)
        assert page.locator(".jp-Dialog").count() == 0
        assert requests.offsite == []
