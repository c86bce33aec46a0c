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


@pytest.mark.parametrize("argv", [["train", "--help"], ["--help"], ["evaluate", "-h"]])
def test_help_prints_usage_and_trains_nothing(argv, no_training, capsys):
    with pytest.raises(SystemExit) as exit_:
        repair.main(argv)
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out
    assert no_training == []


@pytest.mark.parametrize("argv", [["train", "--rebuilt"], ["train", "a", "b", "c"], [], ["fit"]])
def test_a_wrong_command_line_is_an_error_and_trains_nothing(argv, no_training, capsys):
    with pytest.raises(SystemExit) as exit_:
        repair.main(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert no_training == []


def test_train_passes_its_folders_and_the_rebuild_flag(no_training, tmp_path, capsys):
    assert repair.main(["train", str(tmp_path), str(tmp_path / "out"), "--rebuild"]) == 0
    (args, kwargs), = no_training
    assert args == (str(tmp_path), str(tmp_path / "out"))
    assert kwargs["use_cache"] is False
