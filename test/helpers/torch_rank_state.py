"""One rank of a bare launch of train_worker.py (the environment torchrun sets, no attn
driving it) that also saves its own model's final state, so a test can compare ranks.

usage: torch_rank_state.py WORKER.py SPEC.json OUT_DIR
Writes OUT_DIR/rank-<RANK>.safetensors (the state_dict: weights and BatchNorm buffers).
"""
import importlib.util
import json
import os
import sys

worker_path, spec_path, out = sys.argv[1:4]
spec_ = importlib.util.spec_from_file_location("train_worker", worker_path)
worker = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(worker)
with open(spec_path) as f:
    spec = json.load(f)
run = worker.Run(spec)
run.run()
worker.write_safetensors(os.path.join(out, f"rank-{run.rank}.safetensors"), run.model.state_dict())
