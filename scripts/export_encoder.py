#!/usr/bin/python3
"""Exports a speech encoder as the TorchScript file model.type = "pretrained" loads.

Builds torchaudio's wav2vec 2.0 Base or HuBERT Base architecture (torchaudio 0.13, Debian's
python3-torchaudio, has no WavLM; with torchaudio >= 2.0 `--arch wavlm_base` works too), loads the
weights of a local checkpoint file, and saves a module whose

    forward(waveforms [B, T] float32 at 16 kHz, lengths [B] int64) -> List[Tensor]

returns every transformer layer's hidden states [B, frames, D] (torchaudio's extract_features),
with an integer attribute `sample_rate` = 16000. Beside OUT it writes OUT minus ".pt" plus
".reference.pt": a TorchScript module whose attributes `input` [2, 16000], `lengths` and
`layer0`, `layer1`, ... hold a fixed input and this Python forward's output in eval mode, so that
a C++ test can hold LibTorch's forward to it without Python.

Checkpoints (--checkpoint FILE):
  * torchaudio's own state_dict, e.g. the files of torchaudio.pipelines.WAV2VEC2_BASE /
    HUBERT_BASE (wav2vec2_fairseq_base_ls960.pth, hubert_fairseq_base_ls960.pth): exact keys.
  * fairseq checkpoints (a dict with "model"; wav2vec2 or HuBERT, pre-trained or fine-tuned):
    keys mapped by torchaudio's own fairseq importer (_convert_state_dict); the pre-training
    heads (quantizer, project_q, final_proj, label_embs_concat, mask_emb) are dropped.
  * Hugging Face checkpoints (pytorch_model.bin / safetensors): not supported (their layout
    needs the transformers package to map; convert with torchaudio.models.wav2vec2.utils.
    import_huggingface_model where transformers is installed and save its state_dict()).
  A key of the architecture missing from the file is an error; extra keys are listed and skipped.
--random: random weights (speed measurements). --tiny: a 2-layer, 32-wide random model for tests.

  /usr/bin/python3 scripts/export_encoder.py --arch hubert_base --checkpoint hubert.pth --out hubert.pt
"""
import argparse
import os
import sys
from typing import List, Optional

import torch
import torchaudio

SAMPLE_RATE = 16000


class Encoder(torch.nn.Module):
    """The exported interface: every layer's hidden states of a 16 kHz waveform batch."""

    sample_rate: int

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.sample_rate = SAMPLE_RATE

    def forward(self, waveforms: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> List[torch.Tensor]:
        hidden, _ = self.model.extract_features(waveforms, lengths)
        return hidden


class WavLMEncoder(Encoder):
    """WavLM's hidden states with its padding as a key padding mask.

    torchaudio's WavLM self-attention asserts that no attention mask is given, while
    extract_features(waveforms, lengths) builds one from the lengths: with lengths it fails. Its
    layers take the padding as key_padding_mask instead (added to the relative position bias), so
    the steps of extract_features are taken here with that mask: the convolutional features, the
    projection with padded frames zeroed, the positional convolution, then every layer.
    """

    def forward(self, waveforms: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> List[torch.Tensor]:
        x, frames = self.model.feature_extractor(waveforms, lengths)
        x = self.model.encoder.feature_projection(x)
        pad: Optional[torch.Tensor] = None
        if frames is not None:
            pad = torch.arange(x.size(1), device=x.device).expand(x.size(0), x.size(1)) >= frames[:, None]
            x = x.masked_fill(pad[:, :, None], 0.0)
            # additive (0 / -inf), of the position bias's float type: a bool mask is deprecated there
            pad = torch.zeros(pad.shape, dtype=x.dtype, device=x.device).masked_fill(pad, float("-inf"))
        transformer = self.model.encoder.transformer
        x = transformer._preprocess(x)
        hidden: List[torch.Tensor] = []
        position_bias: Optional[torch.Tensor] = None
        for layer in transformer.layers:
            x, position_bias = layer(x, None, position_bias=position_bias, key_padding_mask=pad)
            hidden.append(x)
        return hidden


def build(arch: str):
    m = torchaudio.models
    if arch == "tiny":
        # wav2vec 2.0's layout at toy size: 7 conv layers (320x down-sampling), 2 layers of 32
        return m.wav2vec2_model(
            extractor_mode="group_norm",
            extractor_conv_layer_config=[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2,
            extractor_conv_bias=False, encoder_embed_dim=32, encoder_projection_dropout=0.1,
            encoder_pos_conv_kernel=16, encoder_pos_conv_groups=4, encoder_num_layers=2,
            encoder_num_heads=2, encoder_attention_dropout=0.1, encoder_ff_interm_features=64,
            encoder_ff_interm_dropout=0.0, encoder_dropout=0.1, encoder_layer_norm_first=False,
            encoder_layer_drop=0.0, aux_num_out=None)
    if not hasattr(m, arch):
        sys.exit(f"export_encoder.py: torchaudio {torchaudio.__version__} has no models.{arch}")
    return getattr(m, arch)()


def load_weights(model, path: str):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        from torchaudio.models.wav2vec2.utils.import_fairseq import _map_key
        state, dropped = {}, []
        for k, v in obj["model"].items():
            try:
                key = _map_key(k)
            except ValueError:
                key = None
            if key is None:
                dropped.append(k)
            else:
                state[key] = v
        kind = "fairseq"
    elif isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        state, dropped, kind = dict(obj), [], "torchaudio state_dict"
        if any(k.startswith("wav2vec2.") or k.startswith("hubert.") for k in state):
            sys.exit(f"export_encoder.py: '{path}' looks like a Hugging Face checkpoint: not "
                     "supported (see --help)")
    else:
        sys.exit(f"export_encoder.py: '{path}' is neither a torchaudio state_dict nor a fairseq "
                 "checkpoint (a dict with 'model')")
    own = model.state_dict()
    extra = [k for k in state if k not in own]
    missing = [k for k in own if k not in state]
    if missing:
        sys.exit(f"export_encoder.py: '{path}' ({kind}) lacks {len(missing)} of the model's "
                 f"tensors, e.g. {missing[:3]}: another architecture than --arch?")
    for k in extra:
        state.pop(k)
    model.load_state_dict(state, strict=True)
    print(f"export_encoder.py: loaded '{path}' as a {kind}; skipped {len(dropped) + len(extra)} "
          f"keys {(dropped + extra)[:6]}", file=sys.stderr)


def reference_module(x, lengths, hidden):
    """A TorchScript module holding the fixed input and the hidden states as attributes."""
    holder = torch.nn.Module()
    holder.register_buffer("input", x)
    holder.register_buffer("lengths", lengths)
    for i, h in enumerate(hidden):
        holder.register_buffer(f"layer{i}", h.detach().contiguous())
    return torch.jit.script(holder)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="wav2vec2_base",
                    help="wav2vec2_base | hubert_base | wavlm_base (torchaudio >= 2.0) | tiny")
    ap.add_argument("--checkpoint", help="weights file (see above)")
    ap.add_argument("--random", action="store_true", help="random weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="the TorchScript file to write (.pt)")
    a = ap.parse_args()
    if a.arch != "tiny" and not a.random and not a.checkpoint:
        sys.exit("export_encoder.py: give --checkpoint FILE (or --random for random weights)")
    torch.manual_seed(a.seed)
    model = build(a.arch)
    if a.checkpoint:
        load_weights(model, a.checkpoint)
    enc = torch.jit.script((WavLMEncoder if a.arch.startswith("wavlm") else Encoder)(model).eval())
    enc.save(a.out)

    # the fixed input: seeded noise and a tone, two examples of 1 s
    g = torch.Generator().manual_seed(1234)
    t = torch.arange(SAMPLE_RATE, dtype=torch.float32) / SAMPLE_RATE
    x = torch.stack([0.1 * torch.randn(SAMPLE_RATE, generator=g),
                     0.3 * torch.sin(2 * torch.pi * 440 * t)])
    lengths = torch.full((2,), SAMPLE_RATE, dtype=torch.long)
    with torch.no_grad():
        hidden = enc(x, lengths)
    ref = os.path.splitext(a.out)[0] + ".reference.pt"
    reference_module(x, lengths, hidden).save(ref)
    print(f"export_encoder.py: wrote {a.out} ({len(hidden)} layers of {hidden[0].shape[-1]}, "
          f"torchaudio {torchaudio.__version__}, torch {torch.__version__}) and {ref}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
