import os
import pickle

import numpy as np
import pytest

from lmad.data import UnsafePickleError, load_affordancenet, safe_load_pickle


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_plain_data_loads(tmp_path):
    data = [{"a": np.arange(5, dtype=np.int64), "b": np.zeros((2, 3), np.float32), "c": "text", "d": 1.5}]
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(data))
    loaded = safe_load_pickle(path)
    assert np.array_equal(loaded[0]["a"], data[0]["a"]) and loaded[0]["c"] == "text"


def test_code_executing_pickle_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "full_shape_train_data.pkl"
    path.write_bytes(pickle.dumps([RunsCode()]))
    with pytest.raises(UnsafePickleError, match="posix.system|os.system"):
        safe_load_pickle(path)
    with pytest.raises(UnsafePickleError, match="refused"):
        load_affordancenet(tmp_path, "full", "train")
    assert not (tmp_path / "PWNED").exists()


def test_refused_and_truncated_pickles_are_value_errors_for_the_cli(tmp_path, monkeypatch, capsys):
    from lmad.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "full_shape_val_data.pkl").write_bytes(pickle.dumps([RunsCode()]))
    assert issubclass(UnsafePickleError, ValueError)
    truncated = tmp_path / "cut.pkl"
    truncated.write_bytes(pickle.dumps([{"a": np.arange(100)}])[:40])
    with pytest.raises(ValueError, match="truncated or damaged"):
        safe_load_pickle(truncated)
    status = main(["eval", "--checkpoint", str(tmp_path), "--data", str(tmp_path), "--device", "cpu"])
    assert status == 2 and "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "PWNED").exists()
