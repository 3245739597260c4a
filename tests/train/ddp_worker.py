"""Run by test_ddp_two_processes_on_cpu under torchrun: a few DDP steps, then each rank's weights."""

import os
import sys
from pathlib import Path

import torch.distributed as dist
from safetensors.torch import save_file

import lmad.train.trainer as trainer
from tests.train.helpers import tiny_config

data, out = Path(sys.argv[1]), Path(sys.argv[2])
rank = int(os.environ["RANK"])
seen = []
collate = trainer.collate_samples


def recording_collate(samples):
    seen.extend(s["shape_id"] for s in samples)
    return collate(samples)


trainer.collate_samples = recording_collate
config = tiny_config(data, epochs=1, max_steps_per_epoch=2)  # one epoch: the shards must be disjoint
config.run.eval_every = 100  # validation (sharded, all-reduced) only at the end
captured = {}
build_model = trainer.build_model


def capturing_build_model(*args, **kwargs):
    captured["model"] = build_model(*args, **kwargs)
    return captured["model"]


trainer.build_model = capturing_build_model
trainer.train(config, out)
train_ids = [s for s in seen if s.startswith("train")]
out.mkdir(parents=True, exist_ok=True)
(out / f"rank{rank}.seen").write_text("\n".join(train_ids))
state = {k: v.contiguous() for k, v in captured["model"].state_dict().items()}
save_file(state, str(out / f"rank{rank}.safetensors"))
dist.destroy_process_group()
