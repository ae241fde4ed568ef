#!/usr/bin/env python3
"""Write an hptrain dataset (dataset.toml + manifest.csv) of speaker identities from a folder of
LibriSpeech-named files (<speaker>-<chapter>-<utterance>.flac), for training a speaker encoder on
many voices (issue 25: diarization of unheard voices).

    /usr/bin/python3 scripts/librispeech_dataset.py ../shared/corpora/librispeech-251/audio \
        datasets/librispeech
    build-test/hptrain prepare --dataset datasets/librispeech/dataset.toml

Development data only: the product does not need it (../shared/corpora/librispeech-251/README.md;
LibriSpeech itself is at https://www.openslr.org/12, CC BY 4.0).

One task, `speaker`: one class per speaker (the corpus has one utterance per speaker, so a
speaker's classes cannot be held out whole and still be classes). Validation = a time range:
the last `--validation` fraction (default 0.2) of every utterance, the rest trains; each part is
its own group with the manifest's `split` column set, so no chunk of a held-out range is in
training (chunks are cut per split from that split's rows only). Every other speaker's held-out
range (by sorted file name) goes to the test split instead, which training requires; the speaker
encoder's real test is on other voices (make-conversations' hedgewars packs, unheard).

Features are the GE2E encoder's (README "Pretrained voice encoders": n_fft 400, hop 160, 40
Slaney mel bands to 8 kHz, power in dB re 1, no top_db), so one prepared dataset serves both a
`model.type = "ge2e"` run and an ECAPA run on `log_mel`. Chunks are diarize's windows: 1.5 s,
every 0.5 s for training.
"""
import argparse
import csv
import os
import sys

import soundfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("audio", help="folder of <speaker>-<chapter>-<utterance>.flac files")
    ap.add_argument("out", help="folder for dataset.toml, manifest.csv (and shards/)")
    ap.add_argument("--validation", type=float, default=0.2,
                    help="fraction at the end of each utterance held out for validation")
    ap.add_argument("--chunk-s", type=float, default=1.5)
    ap.add_argument("--chunk-hop-s", type=float, default=0.5)
    a = ap.parse_args()
    if not 0 < a.validation < 1:
        sys.exit("--validation must be in (0, 1)")

    audio = os.path.abspath(a.audio)
    files = sorted(f for f in os.listdir(audio) if f.endswith((".flac", ".wav")))
    if not files:
        sys.exit(f"{audio}: no .flac or .wav file")
    os.makedirs(a.out, exist_ok=True)
    rows, speakers = [], set()
    for f in files:
        spk = f.split("-")[0]
        info = soundfile.info(os.path.join(audio, f))
        dur = info.frames / info.samplerate
        cut = round(dur * (1 - a.validation), 3)
        speakers.add(spk)
        rows.append([f, "0", f"{cut:.3f}", spk, f"{spk}-train", "train"])
        # the held-out ranges of every other speaker make the test split (train needs one)
        held = "validation" if len(speakers) % 2 else "test"
        rows.append([f, f"{cut:.3f}", "", spk, f"{spk}-{held}", held])
    with open(os.path.join(a.out, "manifest.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["path", "start", "end", "speaker", "group", "split"])
        w.writerows(rows)

    toml = f"""# LibriSpeech speakers for a speaker encoder, written by scripts/librispeech_dataset.py from
# {audio} ({len(files)} files, {len(speakers)} speakers).
# Held out: the last {a.validation:g} of every utterance (manifest's split column), as validation for
# every other speaker and as test for the rest.
name = "librispeech"
audio_root = "{audio}"
allow_outside_root = true
manifest = "manifest.csv"
output = "shards"
shard_size = 512
min_coverage = 0.8

[tasks]
speaker = []        # the speakers found, sorted

[split]
train = 0.8
validation = 0.1
test = 0.1
seed = 1
group = "group"
stratify = "speaker"

[preprocess]
sr = 16000
trim = false
normalize = "loudness"
target_lufs = -23
chunk_s = {a.chunk_s:g}
chunk_hop_s = {a.chunk_hop_s:g}
last_chunk = "drop"

[features]
preset = "speech"
[features.stft]
n_fft = 400
win_length = 400
hop_length = 160
[features.mel]
n_mels = 40
fmax = 8000
[features.db]
ref = 1.0
top_db = "none"
"""
    with open(os.path.join(a.out, "dataset.toml"), "w") as fh:
        fh.write(toml)
    print(f"{a.out}: {len(files)} files, {len(speakers)} speakers, {len(rows)} rows")


if __name__ == "__main__":
    main()
