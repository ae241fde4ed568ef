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

Speaker-disjoint mode (`--hold-out N`, issue 24's unheard voices): a seeded choice (`--seed`) of N
speakers among those whose utterance lasts at least `--min-held-s` (8 s) is left out of
manifest.csv altogether (no time range of theirs in training, validation or test); the other
speakers make the dataset as above. For the held-out speakers the script writes, as `hptrain
enroll` and `evaluate-cast` read them (absolute paths; `path,start,end,character[,voice]`):
  cast.csv  the first half of the utterance of each enrolled speaker (N - `--unknown`);
  test.csv  the second half of every held-out speaker, cut into two lines of equal length (so
            each voice has a same-voice pair for the EER), `character` the speaker or `unknown`
            for the `--unknown` speakers not enrolled, `voice` the speaker.
No time range is in both cast.csv and test.csv: enrolment ends where the test lines start.

    /usr/bin/python3 scripts/librispeech_dataset.py ../shared/corpora/librispeech-251/audio \
        datasets/librispeech-disjoint --hold-out 50 --unknown 10 --seed 1
    build-test/hptrain evaluate-cast --run RUN --cast datasets/librispeech-disjoint/cast.csv \
        --test datasets/librispeech-disjoint/test.csv --out RUN/librispeech-unheard

Features are the GE2E encoder's (README "Pretrained voice encoders": n_fft 400, hop 160, 40
Slaney mel bands to 8 kHz, power in dB re 1, no top_db), so one prepared dataset serves both a
`model.type = "ge2e"` run and an ECAPA run on `log_mel`. Chunks are diarize's windows: 1.5 s,
every 0.5 s for training.
"""
import argparse
import csv
import math
import os
import random
import sys

import soundfile


def training_rows(durations, validation):
    """Manifest rows (path, start, end, speaker, group, split) of {file: seconds}: the first
    1 - `validation` of each utterance trains, the rest is validation or test by turns."""
    rows, speakers = [], set()
    for f in sorted(durations):
        spk = f.split("-")[0]
        cut = round(durations[f] * (1 - validation), 3)
        speakers.add(spk)
        rows.append([f, "0", f"{cut:.3f}", spk, f"{spk}-train", "train"])
        # the held-out ranges of every other speaker make the test split (train needs one)
        held = "validation" if len(speakers) % 2 else "test"
        rows.append([f, f"{cut:.3f}", "", spk, f"{spk}-{held}", held])
    return rows


def ms_floor(seconds):
    """Seconds rounded down to the millisecond (an end never past the file's end)."""
    return math.floor(seconds * 1000 + 1e-6) / 1000


def hold_out_speakers(durations, count, unknown, seed, min_s):
    """Splits {file: seconds} into (training files, cast rows, test rows). `count` speakers whose
    utterance lasts at least `min_s` are drawn with random.Random(seed) from the sorted list of
    eligible files; `unknown` of them (the first drawn) are not enrolled. Cast rows: [path,
    start, end, speaker] over [0, d/2]; test rows: [path, start, end, character, voice] over
    [d/2, 3d/4] and [3d/4, d], character the speaker or "unknown". Times are milliseconds."""
    eligible = sorted(f for f, d in durations.items() if d >= min_s)
    if count > len(eligible):
        raise ValueError(f"--hold-out {count}: only {len(eligible)} utterances last {min_s:g} s")
    if not 0 <= unknown < count:
        raise ValueError(f"--unknown {unknown}: must be in [0, --hold-out)")
    drawn = random.Random(seed).sample(eligible, count)
    strangers = set(drawn[:unknown])
    held = set(drawn)
    cast, test = [], []
    for f in sorted(held):
        spk = f.split("-")[0]
        end = ms_floor(durations[f])
        mid = round(end / 2, 3)
        quarter = round((mid + end) / 2, 3)
        if f not in strangers:
            cast.append([f, "0.000", f"{mid:.3f}", spk])
        character = "unknown" if f in strangers else spk
        test.append([f, f"{mid:.3f}", f"{quarter:.3f}", character, spk])
        test.append([f, f"{quarter:.3f}", f"{end:.3f}", character, spk])
    train = {f: d for f, d in durations.items() if f not in held}
    return train, cast, test


def write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("audio", help="folder of <speaker>-<chapter>-<utterance>.flac files")
    ap.add_argument("out", help="folder for dataset.toml, manifest.csv (and shards/)")
    ap.add_argument("--validation", type=float, default=0.2,
                    help="fraction at the end of each utterance held out for validation")
    ap.add_argument("--chunk-s", type=float, default=1.5)
    ap.add_argument("--chunk-hop-s", type=float, default=0.5)
    ap.add_argument("--hold-out", type=int, default=0,
                    help="speakers left out of the dataset for cast.csv and test.csv (0: none)")
    ap.add_argument("--unknown", type=int, default=10,
                    help="of the held-out speakers, how many are not enrolled (test: unknown)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the held-out choice")
    ap.add_argument("--min-held-s", type=float, default=8.0,
                    help="a held-out speaker's utterance lasts at least this long")
    a = ap.parse_args()
    if not 0 < a.validation < 1:
        sys.exit("--validation must be in (0, 1)")

    audio = os.path.abspath(a.audio)
    files = sorted(f for f in os.listdir(audio) if f.endswith((".flac", ".wav")))
    if not files:
        sys.exit(f"{audio}: no .flac or .wav file")
    os.makedirs(a.out, exist_ok=True)
    durations = {}
    for f in files:
        info = soundfile.info(os.path.join(audio, f))
        durations[f] = info.frames / info.samplerate
    held_note = ""
    if a.hold_out > 0:
        try:
            durations, cast, test = hold_out_speakers(durations, a.hold_out, a.unknown, a.seed,
                                                      a.min_held_s)
        except ValueError as e:
            sys.exit(str(e))
        absolute = lambda rows: [[os.path.join(audio, r[0])] + r[1:] for r in rows]
        write_csv(os.path.join(a.out, "cast.csv"), ["path", "start", "end", "character"],
                  absolute(cast))
        write_csv(os.path.join(a.out, "test.csv"),
                  ["path", "start", "end", "character", "voice"], absolute(test))
        held_note = (f"\n# Left out (cast.csv, test.csv): {a.hold_out} speakers of at least "
                     f"{a.min_held_s:g} s, seed {a.seed}, {a.unknown} of them not enrolled.")
        print(f"{a.out}: held out {a.hold_out} speakers: cast.csv {len(cast)} lines, "
              f"test.csv {len(test)} lines")
    rows = training_rows(durations, a.validation)
    speakers = {r[3] for r in rows}
    write_csv(os.path.join(a.out, "manifest.csv"),
              ["path", "start", "end", "speaker", "group", "split"], rows)

    toml = f"""# LibriSpeech speakers for a speaker encoder, written by scripts/librispeech_dataset.py from
# {audio} ({len(durations)} files, {len(speakers)} speakers).{held_note}
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
    print(f"{a.out}: {len(durations)} files, {len(speakers)} speakers, {len(rows)} rows")


if __name__ == "__main__":
    main()
