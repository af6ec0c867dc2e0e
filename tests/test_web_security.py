"""Security of the desk beyond the route walk and the escaping tests: the page-image route cannot be turned into
a file reader, and a recorded path that would leave its folder is refused."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from web_support import Desk, seed_item

from guidang.storage.catalogue import FileRow


def test_a_traversal_on_the_page_image_route_fails(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["archivist"])
    item_id = seed_item(desk.catalogue, kept=tmp_path / "kept")
    client = desk.client("archivist")
    ok = client.get(f"/items/{item_id}/pages/1/thumb.png")
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", "utf-8")
    for path in (f"/items/{item_id}/pages/..%2F..%2F..%2Fsecret.txt/thumb.png",
                 f"/items/{item_id}/pages/1/..%2F..%2Fsecret.txt",
                 f"/items/{item_id}/pages/1/..%2F..%2F..%2F..%2Fsecret.png",
                 f"/items/{item_id}/pages/1/thumb.png/../../../../secret.txt",
                 f"/items/{item_id}/pages/-1/thumb.png", f"/items/{item_id}/pages/2/view.png"):
        r = client.get(path)
        assert r.status_code in (400, 404, 422), (path, r.status_code)
        assert "top secret" not in r.text
    with desk.catalogue.session() as s:  # a path recorded in the catalogue that would leave the kept folder
        s.execute(update(FileRow).values(relpath="../../secret.txt"))
    r = client.get(f"/items/{item_id}/pages/1/thumb.png")
    assert r.status_code == 400 and "top secret" not in r.text


def test_renderings_are_cached_under_work_never_beside_the_masters(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["archivist"])
    kept = tmp_path / "kept"
    item_id = seed_item(desk.catalogue, kept=kept)
    before = sorted(p.name for p in kept.rglob("*"))
    client = desk.client("archivist")
    assert client.get(f"/items/{item_id}/pages/1/view.png").status_code == 200
    assert client.get(f"/items/{item_id}/pages/1").status_code == 200
    assert sorted(p.name for p in kept.rglob("*")) == before
    cached = list((desk.settings.work_root / "web-cache").glob("*.png"))
    assert len(cached) == 1
