"""Walking a paged console table the way a person does: follow "next" until there is none."""

from __future__ import annotations

import re


def every_row(client, link: str, marker: str, *, base: str = "", next_link: str = r'href="([^"]+)" rel="next"'):
    """The values of `marker` (a data attribute, e.g. ``data-alert``) on every page from `link` on, in order.

    A "next" link that is only a query string is taken relative to `base` (the page's path)."""
    seen: list[str] = []
    while link:
        page = client.get(link.replace("&amp;", "&"))
        assert page.status_code == 200, (link, page.status_code)
        seen += re.findall(rf'{marker}="([^"]+)"', page.text)
        more = re.search(next_link, page.text)
        link = (base + more.group(1) if more.group(1).startswith("?") else more.group(1)) if more else ""
    return seen
