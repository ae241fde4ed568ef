#!/usr/bin/env python3
"""Converts resemblyzer's GE2E voice encoder weights into a file hptrain reads (model.weights).

resemblyzer (PyPI, Apache-2.0) ships resemblyzer/pretrained.pt in its wheel, saved by an old
torch.save (the legacy, non-zip format), which LibTorch 1.13's torch::pickle_load cannot read.
This script reads it with PyTorch and writes a torch.save zip archive of a plain dict
{name: tensor} holding the encoder's tensors (lstm.*, linear.*), plus `test_input` (a fixed
[3, 40, 160] log-mel batch in dB) and `test_output` (the encoder's embeddings of it, computed
here as resemblyzer's VoiceEncoder.forward does; 53 frames in the --random fixture), which tests/models/ge2e_test.cpp compares
LibTorch's forward against.

Usage (/usr/bin/python3 with python3-torch; PyPI only for the download):
  python3 -m venv /tmp/rz && /tmp/rz/bin/pip download --no-deps resemblyzer==0.1.4 -d /tmp/rz
  /usr/bin/python3 scripts/resemblyzer_weights.py /tmp/rz/Resemblyzer-0.1.4-py3-none-any.whl \\
      models/ge2e-resemblyzer.pt
  /usr/bin/python3 scripts/resemblyzer_weights.py --random tests/data/models/ge2e_small.pt \\
      --torchscript tests/data/models/ge2e_small_script.pt
The first argument may also be pretrained.pt itself. --random writes the small fixture of the
tests instead: the same architecture at 40 mels, hidden 16, 3 layers, embedding 8, seeded.
--torchscript also writes the encoder (log-mel in, embedding out) as a TorchScript module, the
form model.type = "torchscript" reads.
"""
import argparse
import io
import os
import zipfile

import torch
from torch import nn

N_MELS = 40  # ref: resemblyzer/hparams.py mel_n_channels
PARTIAL_FRAMES = 160  # ref: partials_n_frames


class VoiceEncoder(nn.Module):
    """resemblyzer/voice_encoder.py VoiceEncoder without its loading and audio code."""

    def __init__(self, hidden=256, layers=3, embedding=256):
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, hidden, layers, batch_first=True)
        self.linear = nn.Linear(hidden, embedding)
        self.relu = nn.ReLU()

    def forward(self, mels):  # [B, T, n_mels] mel power
        _, (hidden, _) = self.lstm(mels)
        embeds_raw = self.relu(self.linear(hidden[-1]))
        return embeds_raw / torch.norm(embeds_raw, dim=1, keepdim=True)


class FromLogMel(nn.Module):
    """The encoder as a TorchScript speaker encoder for hptrain (model.type = "torchscript"):
    hptrain's log-mel [B, n_mels, T] in dB (ref 1) -> embeddings [B, D]."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(torch.pow(10.0, x / 10.0).transpose(1, 2))


def read_pretrained(path):
    if zipfile.is_zipfile(path) and not path.endswith(".pt"):
        with zipfile.ZipFile(path) as whl:
            data = whl.read("resemblyzer/pretrained.pt")
        checkpoint = torch.load(io.BytesIO(data), map_location="cpu")
    else:
        checkpoint = torch.load(path, map_location="cpu")
    state = checkpoint["model_state"]
    return {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", nargs="?", help="resemblyzer's wheel or its pretrained.pt")
    ap.add_argument("out", help="the file to write (model.weights)")
    ap.add_argument("--random", action="store_true", help="the tests' small random fixture")
    ap.add_argument("--torchscript", help="also write the encoder as a TorchScript file here")
    args = ap.parse_args()
    torch.manual_seed(24)
    if args.random:
        model = VoiceEncoder(hidden=16, layers=3, embedding=8)
    else:
        if not args.source:
            ap.error("give resemblyzer's wheel or pretrained.pt (or --random)")
        state = read_pretrained(args.source)
        hidden = state["linear.weight"].shape[1]
        layers = sum(1 for k in state if k.startswith("lstm.weight_ih_l"))
        model = VoiceEncoder(hidden, layers, state["linear.weight"].shape[0])
        model.load_state_dict(state, strict=True)
    model.eval()
    # log-mel in dB as hptrain's features give it (ref 1): speech-like levels, one short item
    frames = 53 if args.random else PARTIAL_FRAMES  # the fixture: a short, odd length
    test_input = torch.rand(3, N_MELS, frames) * 70.0 - 60.0
    with torch.no_grad():
        test_output = model(torch.pow(10.0, test_input / 10.0).transpose(1, 2))
    out = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    out["test_input"] = test_input
    out["test_output"] = test_output
    # each file's folder made; written beside it and renamed, so a failed run leaves no half file
    def write(path, save):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = path + ".tmp"
        save(tmp)
        os.replace(tmp, path)

    write(args.out, lambda p: torch.save(out, p, _use_new_zipfile_serialization=True))
    if args.torchscript:
        write(args.torchscript, lambda p: torch.jit.save(torch.jit.script(FromLogMel(model)), p))
    print(f"{args.out}: {len(out) - 2} tensors, embedding {test_output.shape[1]}")


if __name__ == "__main__":
    main()
