"""The repair's training command: asking for help, or a wrong option, trains nothing.
(A `train --help` used to be read as a corpora folder named "--help" and start a fit that
rewrote models/operator_repair/weights.json.)"""

import pytest

from criteria_nlp.evaluation import repair, repair_train


@pytest.fixture
def no_training(monkeypatch):
    calls = []
    monkeypatch.setattr(repair_train, "train_operator_model", lambda *a, **k: calls.append((a, k)) or {})
    return calls


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["train", "--help"], 0, "usage:"),
        (["--help"], 0, "usage:"),
        (["evaluate", "-h"], 0, "usage:"),
        (["train", "--rebuilt"], 2, "error:"),  # a misspelt option
        (["train", "a", "b", "c"], 2, "error:"),  # one folder too many
        ([], 2, "error:"),
        (["fit"], 2, "error:"),
    ],
)
def test_help_or_a_wrong_command_line_trains_nothing(argv, code, said, no_training, capsys):
    with pytest.raises(SystemExit) as exit_:
        repair.main(argv)
    assert exit_.value.code == code
    printed = capsys.readouterr()
    assert said in (printed.out if code == 0 else printed.err)
    assert no_training == []


def test_train_passes_its_folders_and_the_rebuild_flag(no_training, tmp_path, capsys):
    assert repair.main(["train", str(tmp_path), str(tmp_path / "out"), "--rebuild"]) == 0
    (args, kwargs), = no_training
    assert args == (str(tmp_path), str(tmp_path / "out"))
    assert kwargs["use_cache"] is False
