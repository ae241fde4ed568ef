#!/usr/bin/env python3
"""Equal error rate of the GE2E encoder (resemblyzer's weights) on voices split in two halves.

Each file of a folder of one-speaker utterances (e.g. ../shared/corpora/librispeech-251/audio,
one utterance per speaker) is cut into a first and a second half; every first half is scored
against every second half by the cosine of their embeddings: same file = target trial, other
file = non-target trial. Embeddings as resemblyzer's VoiceEncoder.embed_utterance makes them:
volume normalised to -30 dBFS (increase only; its webrtcvad silence trimming is left out),
librosa's mel power (16 kHz, n_fft 400, hop 160, 40 mels, Slaney; here torchaudio's equivalent
with zero padding, as librosa >= 0.10 pads), partials of 160 frames at 1.3 per second, the
L2-normalised mean of their embeddings.

Usage: /usr/bin/python3 scripts/ge2e_eer.py WEIGHTS.pt AUDIO_DIR [--min-s 4]
(WEIGHTS.pt: scripts/resemblyzer_weights.py's output). Prints JSON.
"""
import argparse
import glob
import json
import os
import time

import numpy as np
import soundfile
import torch
import torchaudio

from resemblyzer_weights import VoiceEncoder

SR, HOP, PARTIAL = 16000, 160, 160


def mel(wav):
    spec = torchaudio.transforms.MelSpectrogram(
        sample_rate=SR, n_fft=400, win_length=400, hop_length=HOP, n_mels=40, power=2.0,
        norm="slaney", mel_scale="slaney", center=True, pad_mode="constant")
    return spec(torch.from_numpy(wav).float()).T  # [frames, 40]


def partial_slices(n_samples, rate=1.3, min_coverage=0.75):
    # ref: resemblyzer/voice_encoder.py VoiceEncoder.compute_partial_slices
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((SR / rate) / HOP))
    steps = max(1, n_frames - PARTIAL + frame_step + 1)
    starts = list(range(0, steps, frame_step))
    last = starts[-1] * HOP
    coverage = (n_samples - last) / (PARTIAL * HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return starts


def embed(model, wav):
    rms = np.sqrt(np.mean((wav * 32767) ** 2))  # ref: audio.normalize_volume, increase only
    change = -30 - 20 * np.log10(max(rms, 1e-9) / 32767)
    if change > 0:
        wav = wav * 10 ** (change / 20)
    starts = partial_slices(len(wav))
    need = (starts[-1] + PARTIAL) * HOP
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav)))
    m = mel(wav.astype(np.float32))
    batch = torch.stack([m[s:s + PARTIAL] for s in starts])
    with torch.no_grad():
        e = model(batch).mean(0)
    return e / e.norm()


def eer(target, nontarget):
    scores = np.concatenate([target, nontarget])
    labels = np.concatenate([np.ones(len(target)), np.zeros(len(nontarget))])
    order = np.argsort(-scores, kind="stable")
    labels = labels[order]
    tp = np.cumsum(labels)
    fp = np.cumsum(1 - labels)
    fnr = 1 - tp / len(target)
    fpr = fp / len(nontarget)
    i = np.argmin(np.abs(fnr - fpr))
    return float((fnr[i] + fpr[i]) / 2), float(scores[order][i])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("audio_dir")
    ap.add_argument("--min-s", type=float, default=4.0, help="skip shorter files")
    args = ap.parse_args()
    torch.set_num_threads(1)
    state = torch.load(args.weights)
    model = VoiceEncoder(state["linear.weight"].shape[1],
                         sum(1 for k in state if k.startswith("lstm.weight_ih_l")),
                         state["linear.weight"].shape[0])
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("test_")})
    model.eval()
    files = sorted(glob.glob(os.path.join(args.audio_dir, "**", "*.flac"), recursive=True))
    first, second, names, seconds = [], [], [], 0.0
    start = time.time()
    for f in files:
        wav, sr = soundfile.read(f, dtype="float32")
        assert sr == SR, f
        if len(wav) < args.min_s * SR:
            continue
        half = len(wav) // 2
        first.append(embed(model, wav[:half]))
        second.append(embed(model, wav[half:]))
        names.append(os.path.basename(f))
        seconds += len(wav) / SR
    elapsed = time.time() - start
    scores = (torch.stack(first) @ torch.stack(second).T).numpy()
    n = len(names)
    target = np.diag(scores)
    nontarget = scores[~np.eye(n, dtype=bool)]
    e, threshold = eer(target, nontarget)
    print(json.dumps({"files": n, "audio_s": round(seconds, 1), "target_trials": int(n),
                      "nontarget_trials": int(n * (n - 1)), "eer": round(e, 4),
                      "threshold": round(threshold, 4), "embed_s": round(elapsed, 1)}))


if __name__ == "__main__":
    main()
