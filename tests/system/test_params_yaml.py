"""params.yaml survives `dvc exp run -S`: DVC rewrites the whole file, so it is written as DVC writes it (block
lists, empty nulls, no comment line right after a list, which DVC would drop), and a variant changes only its own
lines; every comment stays."""

import subprocess

from tests.support.dvc_repo import ROOT, activated, dvc


def test_a_variant_changes_only_its_own_lines(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (repo / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: echo ran > out.txt\n"
        "    params: [train.max_steps, preprocess.cap_splits]\n    outs: [out.txt]\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc(repo, "init", "-q")
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "params"], cwd=repo, check=True)
    dvc(repo, "exp", "run", "-S", "train.max_steps=20", "-S", "preprocess.cap_splits=[eval,test]")
    before, after = (ROOT / "params.yaml").read_text().splitlines(), (repo / "params.yaml").read_text().splitlines()
    assert [line for line in before if line.lstrip().startswith("#")] == [
        line for line in after if line.lstrip().startswith("#")
    ]
    diff = subprocess.run(
        ["git", "diff", "-U0", "params.yaml"], cwd=repo, capture_output=True, text=True, env=activated()
    ).stdout
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) <= 5, diff  # max_steps out and in, one list item out, a blank line at most
    assert "+  max_steps: 20" in diff and "-  - train" in diff
