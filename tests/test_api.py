"""The library's public names, loaded on first use (PEP 562), and what each entry point imports."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", ["noarkpack", "noarkpack.nha", "noarkpack.validation"])
def test_every_public_name_resolves_and_is_listed(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
    namespace: dict = {}
    exec(f"from {package} import *", namespace)  # noqa: S102 - the star import a script may use
    assert set(module.__all__) <= set(namespace)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_the_split_child_does_not_import_the_engine():
    """``python -m noarkpack.validation.parallel`` starts while the parent reads: it loads what it runs."""
    loaded = _modules_after("import noarkpack.validation.parallel")
    assert "noarkpack.validation.content" in loaded
    assert not {"noarkpack.validation.engine", "noarkpack.schemas", "noarkpack.noark5.writer"} & loaded


def test_asking_whether_a_path_is_an_nha_deposit_loads_no_builder():
    loaded = _modules_after("from noarkpack.nha.detect import is_nha_deposit; is_nha_deposit('.')")
    assert not {"noarkpack.nha.build", "noarkpack.packaging", "noarkpack.nha.verify"} & loaded


def test_verify_path_reports_progress_to_the_end_of_the_tar(tmp_path):
    """verify's progress (the CLI's line, the workbench's live run): bytes of the tar read, up to its size."""
    import shutil

    from noarkpack import pipeline

    project = tmp_path / "omsorg"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "omsorg", project,
                    ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    pipeline.package(project, tmp_path / "p", profile="arkivverket-sip")
    seen = []
    report = pipeline.verify_path(tmp_path / "p", progress=lambda stage, done, total=None: seen.append(
        (stage, done, total)))
    assert report.exit_code == 0
    (tar,) = (tmp_path / "p").glob("*.tar")
    assert seen and {s for s, _, _ in seen} == {"verify"}
    assert seen[-1] == ("verify", tar.stat().st_size, tar.stat().st_size)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)
