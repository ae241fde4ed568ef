"""The parity cost of a float32 FFT against librosa (issue 21.3), measured on the CPU: the speech
preset's features of the reference clips from a float32 STFT (scipy.fft in single precision on
float32 windowed frames) against librosa's own reference vectors (numpy's float64 FFT).
Run with the venv of scripts/compare_features_e2e.sh (librosa 0.11):
    build-venv/librosa/bin/python scripts/fft32_parity.py
Prints, per feature, the largest absolute difference and its size relative to the feature's
largest magnitude."""
import os

import h5py
import numpy as np
import scipy.fft

import librosa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, "tests", "data", "reference")
SR, NFFT, HOP, WIN = 16000, 512, 160, 400


def stft32(y):
    # librosa.stft's framing (centre, constant padding, hann of 400 padded to 512), then the
    # FFT in float32 instead of numpy's float64
    w = librosa.filters.get_window("hann", WIN, fftbins=True)
    w = librosa.util.pad_center(w, size=NFFT).astype(np.float32)
    yp = np.pad(y, NFFT // 2, mode="constant")
    frames = librosa.util.frame(yp, frame_length=NFFT, hop_length=HOP).T * w
    return scipy.fft.rfft(frames.astype(np.float32), axis=1).T  # complex64 [bins, T]


def main():
    for clip in ("speech_hedgewars_16k", "music_wesnoth_16k"):
        with h5py.File(os.path.join(REF, clip + ".speech.h5"), "r") as f:
            y = f["y"][()]
            ref = {k: f[k][()] for k in ("stft_mag", "melspectrogram", "log_mel", "mfcc",
                                         "chroma_stft", "spectral_contrast")}
            tuning = float(f.attrs["tuning_chroma_stft"])
        D = stft32(y)
        mag = np.abs(D)
        mel = librosa.feature.melspectrogram(S=mag ** 2, sr=SR, n_fft=NFFT, n_mels=64, fmin=0.0,
                                             fmax=8000.0, htk=False, norm="slaney")
        log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
        got = {
            "stft_mag": mag,
            "melspectrogram": mel,
            "log_mel": log_mel,
            "mfcc": librosa.feature.mfcc(S=log_mel, n_mfcc=20, dct_type=2, norm="ortho", lifter=0),
            "chroma_stft": librosa.feature.chroma_stft(S=mag ** 2, sr=SR, n_fft=NFFT,
                                                       tuning=tuning, n_chroma=12),
            "spectral_contrast": librosa.feature.spectral_contrast(
                S=mag, sr=SR, n_fft=NFFT, fmin=200.0, n_bands=6, quantile=0.02, linear=False),
        }
        for k, v in got.items():
            err = np.max(np.abs(v.astype(np.float64) - ref[k]))
            print(f"{clip:22} {k:18} max |diff| {err:10.3g}   / max |ref| {err / np.max(np.abs(ref[k])):9.2g}")


if __name__ == "__main__":
    main()
