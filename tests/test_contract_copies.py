"""The repository stands alone: the contract (docs/SPEC.md), its source documents (docs/seeds/) and the
signature vectors (tests/data/) are copies kept in it. Where the shared folder they come from sits
beside the repository (`../shared`, in the team's checkout), the copies must still equal it."""
from __future__ import annotations

import pytest

from tests.support import ROOT

SHARED = ROOT.parent / "shared"
COPIES = {  # file in ../shared → its copy in the repository
    "SPEC.md": "docs/SPEC.md",
    "sign-vectors.json": "tests/data/sign-vectors.json",
    "sign-vectors-hmac.json": "tests/data/sign-vectors-hmac.json",
    "seeds/thinkphp-login-api.md": "docs/seeds/thinkphp-login-api.md",
    "seeds/hyperf-login-api.md": "docs/seeds/hyperf-login-api.md",
}


@pytest.mark.parametrize("copy", sorted(COPIES.values()))
def test_the_copy_is_in_the_repository(copy: str) -> None:
    assert (ROOT / copy).is_file() and (ROOT / copy).stat().st_size > 100, copy


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is not beside the repository: nothing to compare with")
@pytest.mark.parametrize("source", sorted(COPIES))
def test_the_copy_equals_the_shared_file(source: str) -> None:
    assert (ROOT / COPIES[source]).read_bytes() == (SHARED / source).read_bytes(), \
        f"{COPIES[source]} differs from ../shared/{source}: copy it again"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is not beside the repository: nothing to compare with")
def test_every_seed_is_copied() -> None:
    seeds = {f"seeds/{path.name}" for path in (SHARED / "seeds").glob("*.md")}
    assert seeds <= set(COPIES), seeds - set(COPIES)


def test_the_readme_links_the_copies_not_the_shared_folder() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for copy in ("docs/SPEC.md", "tests/data/sign-vectors.json"):
        assert f"]({copy})" in readme, copy
