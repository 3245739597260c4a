"""The model's forward passes in a child process: the same logits, errors carried over, restarts."""

import os
import signal

import pytest
import torch

from lmad.predict import ModelProcess


def test_a_model_process_gives_the_models_logits_and_outlives_its_child(tiny_model):
    model = tiny_model
    batch = torch.rand(3, 64, 3, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        expected = model(batch, ["grasp", "pour"])
    with ModelProcess(model, "cpu") as process:
        assert process.alive and process.pid != os.getpid()
        torch.testing.assert_close(process(batch, ["grasp", "pour"]), expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(process(batch, ["grasp", "pour"], threads=1), expected, rtol=1e-5, atol=1e-5)
        os.kill(process.pid, signal.SIGKILL)  # killed (e.g. out of memory): the next call starts another
        process._process.join(10)
        torch.testing.assert_close(process(batch[:1], ["grasp"]), expected[:1, :1], rtol=1e-5, atol=1e-5)
        assert process.restarts == 1 and process.alive
        with pytest.raises(ValueError, match="shape"):  # the model's own message, raised here
            process(batch[..., :2], ["grasp"])
        assert process(batch, ["grasp"]).shape == (3, 1, 64)  # and it keeps serving
    assert not process.alive
