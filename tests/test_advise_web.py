"""The web app's advice page."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")




def test_advice_page_from_the_editor(client) -> None:
    draft = client.post("/open", data={"name": "ukraine-2025-05"}, follow_redirects=False).headers["location"]
    assert f'href="{draft}/advise"' in client.get(draft).text
    empty = client.get(f"{draft}/advise")
    assert empty.status_code == 200 and 'id="advise-form"' in empty.text and "Ukraine (UA)" in empty.text
    r = client.get(f"{draft}/advise", params={"actor": "Ukraine", "draws": "200", "model": "compromise"})
    assert r.status_code == 200, r.text
    assert "Ukraine · compromise model" in r.text and "Whom to persuade" in r.text
    assert "best own move" in r.text and "Trade offer" in r.text
    assert "<svg" in r.text  # the trade-off chart, inline


def test_advice_page_errors(client) -> None:
    draft = client.post("/open", data={"name": "ukraine-2025-05"}, follow_redirects=False).headers["location"]
    r = client.get(f"{draft}/advise", params={"actor": "Mordor", "draws": "200"})
    assert r.status_code == 422 and "unknown actor" in r.text and "RU (Russia)" in r.text
    r = client.get(f"{draft}/advise", params={"actor": "UA", "draws": "999999"})
    assert r.status_code == 422 and 'id="advise-error"' in r.text
