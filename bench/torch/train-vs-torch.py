"""Training throughput side by side, in one run: `lab bench train` (Node + Dawn WebGPU, the mamba-tiny CTC step:
forward + CTC + backward + AdamW on a batch of 8 x 4 s) against the independent PyTorch CPU model in
../shared/anchors/torch-cpu (the same architecture), doing the same step, alternating, ROUNDS rounds.

    /usr/bin/python3 bench/torch/train-vs-torch.py        (from the project's root; needs python3-torch and
                                                          libopenblas0-openmp, see that folder's README)

Prints one JSON document: audio seconds trained per wall second for each, per round, and their ratio.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ANCHOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../shared/anchors/torch-cpu')
sys.path.insert(0, ANCHOR)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from model import HubertMambaCTC, frames_for  # noqa: E402

ROUNDS = int(os.environ.get('ROUNDS', '3'))
REPS = 3
B, SECONDS = 8, 4
LAB = ['npm', 'run', '-s', 'lab', '--', 'bench', 'train', '--models', 'mamba', '--preset', 'tiny',
       '--batch', str(B), '--seconds', str(SECONDS), '--reps', str(REPS), '--no-profile', '--json']

torch.set_num_threads(os.cpu_count() or 2)
torch.manual_seed(0)
model = HubertMambaCTC().train()
optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
x = torch.rand(B, SECONDS * 16000) - 0.5
T = frames_for(SECONDS * 16000)
targets = torch.randint(1, 29, (B, 50))
lengths = torch.full((B,), T, dtype=torch.long)
target_lengths = torch.full((B,), 50, dtype=torch.long)


def torch_step_ms():
    optim.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    lp = model(x)
    loss = F.ctc_loss(lp.transpose(0, 1), targets, lengths, target_lengths, blank=0, zero_infinity=True)
    loss.backward()
    optim.step()
    return (time.perf_counter() - t0) * 1000


def lab_rate():
    out = subprocess.run(LAB, capture_output=True, text=True, check=True).stdout
    row = json.loads(out)['rows'][0]
    return row['audioPerSecond'], row['medianMs']


torch_step_ms()  # warm-up (allocator, threads); the lab's bench warms up inside its own run
rounds = []
for r in range(ROUNDS):
    lab, lab_ms = lab_rate()
    ms = statistics.median(torch_step_ms() for _ in range(REPS))
    rounds.append({'lab_audio_s_per_s': lab, 'lab_step_ms': lab_ms, 'torch_audio_s_per_s': B * SECONDS / (ms / 1000), 'torch_step_ms': ms})
    print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
lab = statistics.median(x['lab_audio_s_per_s'] for x in rounds)
ref = statistics.median(x['torch_audio_s_per_s'] for x in rounds)
print(json.dumps({'batch': f'{B} x {SECONDS} s', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'rounds': rounds,
                  'lab_audio_s_per_s': lab, 'torch_audio_s_per_s': ref, 'lab_over_torch': lab / ref}, indent=1))
