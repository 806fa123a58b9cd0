"""The browser tests' one headless Chromium (tests/helpers/browser.py holds their page helpers)."""

import pytest

from tests.helpers.browser import open_browser


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for all the browser tests (each module opens its own pages)."""
    driver = open_browser()
    yield driver
    driver.quit()
