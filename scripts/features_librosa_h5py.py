"""librosa 0.11 + h5py: the speech preset's full feature set of one file, as a user calls it
(every feature from y, independently), with the pooled stats, written uncompressed by h5py.
The Python side of scripts/compare_features_e2e.sh (issue 21.1).

    python features_librosa_h5py.py IN.wav OUT.h5 [--seconds S]
"""
import argparse

import h5py
import numpy as np
import soundfile as sf

import librosa

SR = 16000
P = dict(n_fft=512, win_length=400, hop_length=160, window="hann", center=True,
         pad_mode="constant")
MEL = dict(n_mels=64, fmin=0.0, fmax=8000.0, htk=False, norm="slaney")


def features(y):
    out = {}
    out["stft_mag"] = np.abs(librosa.stft(y, **P))
    mel = librosa.feature.melspectrogram(y=y, sr=SR, power=2.0, **P, **MEL)
    out["melspectrogram"] = mel
    out["log_mel"] = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, dct_type=2, norm="ortho", lifter=0,
                             n_mels=64, fmin=0.0, fmax=8000.0, htk=False, mel_norm="slaney", **P)
    out["mfcc"] = m
    out["mfcc_delta"] = librosa.feature.delta(m, width=9, order=1)
    out["mfcc_delta2"] = librosa.feature.delta(m, width=9, order=2)
    out["chroma_stft"] = librosa.feature.chroma_stft(y=y, sr=SR, tuning=None, n_chroma=12, **P)
    out["spectral_contrast"] = librosa.feature.spectral_contrast(
        y=y, sr=SR, fmin=200.0, n_bands=6, quantile=0.02, linear=False, **P)
    out["zcr"] = librosa.feature.zero_crossing_rate(y, frame_length=512, hop_length=160,
                                                    center=True)
    out["rms"] = librosa.feature.rms(y=y, frame_length=512, hop_length=160, center=True)
    pooled = ["mfcc", "mfcc_delta", "mfcc_delta2", "chroma_stft", "spectral_contrast", "zcr",
              "rms"]
    out["stats"] = np.concatenate(
        [np.stack([out[k].mean(axis=1), out[k].std(axis=1)], axis=1).ravel() for k in pooled])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("out")
    ap.add_argument("--seconds", type=float, default=0, help="only the first S seconds")
    a = ap.parse_args()
    y, sr = sf.read(a.input, dtype="float32")
    assert sr == SR, sr
    if a.seconds > 0:
        y = y[: int(a.seconds * SR)]
    feats = features(y)
    with h5py.File(a.out, "w") as f:
        for k, v in feats.items():
            f.create_dataset(k, data=v.astype(np.float32))


if __name__ == "__main__":
    main()
