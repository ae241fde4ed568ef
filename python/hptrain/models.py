"""The LibTorch models of cpp/src/models in Python PyTorch, module for module, with the names the
C++ modules register (a checkpoint's keys load strictly into them). Input [B, rows, T] float32,
output logits [B, classes] per task.

A body maps [B, rows, T] to features [B, body.out_features]; BODIES maps a [model] type to its
body class. A new type is a class registered with @body("name") whose __init__(cfg, rows)
mirrors the C++ body's register_module calls; a body whose class sets normalize_input = False
(ge2e, pretrained: ref net.cpp NetImpl normalize_) sees the input as it is.
"""
import math
import os

import torch
from torch import nn
import torch.nn.functional as F

STD_EPSILON = 1e-5  # ref: cpp/include/hptrain/models/pooling.h kStdEpsilon
ECAPA_CHANNELS = [512, 512, 512, 512, 1536]  # ref: models/config.h kEcapaChannels
# ref: models/config.h kGe2eHidden, kGe2eLayers, kGe2eEmbedding (resemblyzer's hparams.py)
GE2E_DEFAULTS = dict(hidden_size=256, num_layers=3, embedding_dim=256)
ENCODER_SAMPLE_RATE = 16000  # ref: models/pretrained.h kEncoderSampleRate

# ref: cpp/include/hptrain/models/config.h ModelConfig (every field and default)
DEFAULTS = dict(type="cnn", dropout=0.3, channels=[16, 32, 64, 128], time_pooling="mean_max",
                hidden_size=64, num_layers=2, bidirectional=True, pooling="attention",
                frame_stride=1, embedding_dim=192, res2net_scale=8, se_channels=128,
                attention_channels=128, global_context=True, layers=4, d_model=144, heads=4,
                ff_dim=576, subsampling_channels=0, encoder="", encoder_layer=-1,
                freeze_epochs=0, encoder_lr=0.0, loss="softmax", loss_task="character",
                margin=0.2, scale=30.0, easy_margin=False, init="", init_parts=["backbone"],
                weights="", freeze_backbone=False)

BODIES = {}


def body(name):
    """Registers a body class for [model] type = `name`."""
    def register(cls):
        BODIES[name] = cls
        return cls
    return register


def model_config(table):
    """[model] of an experiment with the C++ defaults filled in (models/config.cpp from_toml:
    ecapa's channels default to ECAPA_CHANNELS, ge2e's sizes to GE2E_DEFAULTS, the pooling of
    transformer and pretrained to "mean"; pretrained's `layers` is "weighted" or a layer index,
    kept as encoder_layer, -1 for weighted)."""
    cfg = dict(DEFAULTS)
    kind = table.get("type", "cnn")
    if kind == "ecapa":
        cfg["channels"] = list(ECAPA_CHANNELS)
    elif kind == "ge2e":
        cfg.update(GE2E_DEFAULTS)
    elif kind in ("transformer", "pretrained"):
        cfg["pooling"] = "mean"
    cfg.update(table)
    if kind == "pretrained":
        layers = table.get("layers", "weighted")
        if layers != "weighted" and (not isinstance(layers, int) or isinstance(layers, bool)
                                     or layers < 0):
            raise ValueError(f"model.layers = {layers!r}: must be \"weighted\" or a layer index "
                             ">= 0")
        cfg["encoder_layer"] = -1 if layers == "weighted" else layers
        cfg["layers"] = DEFAULTS["layers"]
    return cfg


def mean_and_std(mean, var):
    """ref: models/pooling.cpp mean_and_std"""
    return torch.cat([mean, (var + STD_EPSILON).sqrt()], 1)


def weighted_mean_var(x, w, dim):
    """ref: models/pooling.cpp weighted_mean_var (squared deviations from the mean)"""
    mean = (w * x).sum(dim)
    var = (w * (x - mean.unsqueeze(dim)).pow(2)).sum(dim)
    return mean, var


@body("cnn")
class CnnBody(nn.Module):
    """ref: models/net.cpp CnnBodyImpl. [B, rows, T] -> [B, out_features]

    >>> CnnBody(model_config({"channels": [4, 8]}), 64)(torch.rand(2, 64, 101)).shape
    torch.Size([2, 16])
    """

    def __init__(self, cfg, rows):
        super().__init__()
        cin, bands = 1, rows
        self.n_blocks = len(cfg["channels"])
        for i, c in enumerate(cfg["channels"]):
            self.add_module(f"block{i}", nn.Sequential(
                nn.Conv2d(cin, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
                nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True)))
            cin, bands = c, (bands + 1) // 2
        self.project = nn.Sequential(nn.Conv1d(cin * bands, cin, 1, bias=False),
                                     nn.BatchNorm1d(cin), nn.ReLU(inplace=True))
        self.pooling = cfg["time_pooling"]
        self.out_features = 2 * cin if self.pooling in ("mean_max", "mean_std") else cin

    def forward(self, x):
        h = x.unsqueeze(1)
        for i in range(self.n_blocks):
            h = getattr(self, f"block{i}")(h)
        h = self.project(h.flatten(1, 2))
        if self.pooling == "mean":
            return h.mean(2)
        if self.pooling == "max":
            return h.amax(2)
        if self.pooling == "mean_std":
            return mean_and_std(h.mean(2), h.var(2, unbiased=False))
        return torch.cat([h.mean(2), h.amax(2)], 1)


@body("lstm")
class LstmBody(nn.Module):
    """ref: models/net.cpp LstmBodyImpl. [B, rows, T] -> [B, out_features]

    >>> LstmBody(model_config({"type": "lstm"}), 60)(torch.rand(2, 60, 101)).shape
    torch.Size([2, 128])
    """

    def __init__(self, cfg, rows):
        super().__init__()
        layers = cfg["num_layers"]
        self.stride = cfg["frame_stride"]
        self.lstm = nn.LSTM(rows, cfg["hidden_size"], num_layers=layers,
                            bidirectional=cfg["bidirectional"], batch_first=True,
                            dropout=cfg["dropout"] if layers > 1 else 0.0)
        self.features = cfg["hidden_size"] * (2 if cfg["bidirectional"] else 1)
        self.pooling = cfg["pooling"]
        if self.pooling != "mean":
            self.score = nn.Linear(self.features, 1)
        self.out_features = (2 * self.features if self.pooling == "attention_stats"
                             else self.features)

    def forward(self, x):
        if self.stride > 1:
            x = F.avg_pool1d(x, self.stride, self.stride, ceil_mode=True)
        h, _ = self.lstm(x.transpose(1, 2))
        if self.pooling == "mean":
            return h.mean(1)
        w = torch.softmax(self.score(h), 1)
        mean, var = weighted_mean_var(h, w, 1)
        return mean if self.pooling == "attention" else mean_and_std(mean, var)


class TdnnBlock(nn.Module):
    """ref: models/ecapa.cpp TdnnBlockImpl: conv (zero "same" padding) -> ReLU -> batch norm.
    [B, in, T] -> [B, out, T]"""

    def __init__(self, cin, cout, kernel, dilation):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation,
                              padding=dilation * (kernel - 1) // 2)
        self.norm = nn.BatchNorm1d(cout)

    def forward(self, x):
        return self.norm(torch.relu(self.conv(x)))


class Res2NetBlock(nn.Module):
    """ref: models/ecapa.cpp Res2NetBlockImpl. [B, C, T] -> [B, C, T]"""

    def __init__(self, channels, scale, kernel, dilation):
        super().__init__()
        self.scale = scale
        width = channels // scale
        for i in range(1, scale):
            self.add_module(f"block{i}", TdnnBlock(width, width, kernel, dilation))

    def forward(self, x):
        groups = x.chunk(self.scale, 1)
        y = [groups[0]]
        for i in range(1, self.scale):
            inp = groups[i] if i == 1 else groups[i] + y[-1]
            y.append(getattr(self, f"block{i}")(inp))
        return torch.cat(y, 1)


class SEBlock(nn.Module):
    """ref: models/ecapa.cpp SEBlockImpl. [B, C, T] -> [B, C, T]"""

    def __init__(self, channels, se_channels):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, se_channels, 1)
        self.conv2 = nn.Conv1d(se_channels, channels, 1)

    def forward(self, x):
        s = x.mean(2, keepdim=True)
        return x * torch.sigmoid(self.conv2(torch.relu(self.conv1(s))))


class SERes2NetBlock(nn.Module):
    """ref: models/ecapa.cpp SERes2NetBlockImpl. [B, in, T] -> [B, out, T]"""

    def __init__(self, cin, cout, scale, se_channels, kernel, dilation):
        super().__init__()
        self.tdnn1 = TdnnBlock(cin, cout, 1, 1)
        self.res2net = Res2NetBlock(cout, scale, kernel, dilation)
        self.tdnn2 = TdnnBlock(cout, cout, 1, 1)
        self.se = SEBlock(cout, se_channels)
        self.shortcut = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        residual = self.shortcut(x) if self.shortcut is not None else x
        return self.se(self.tdnn2(self.res2net(self.tdnn1(x)))) + residual


class AttentiveStatisticsPooling(nn.Module):
    """ref: models/pooling.cpp AttentiveStatisticsPoolingImpl. [B, C, T] -> [B, 2C]"""

    def __init__(self, channels, attention_channels, global_context):
        super().__init__()
        self.global_context = global_context
        cin = 3 * channels if global_context else channels
        self.tdnn = nn.Sequential(nn.Conv1d(cin, attention_channels, 1), nn.ReLU(),
                                  nn.BatchNorm1d(attention_channels))
        self.conv = nn.Conv1d(attention_channels, channels, 1)

    def forward(self, x):
        a = x
        if self.global_context:
            t = x.size(2)
            mean = x.mean(2, keepdim=True)
            std = (x.var(2, unbiased=False, keepdim=True) + STD_EPSILON).sqrt()
            a = torch.cat([x, mean.expand(-1, -1, t), std.expand(-1, -1, t)], 1)
        w = torch.softmax(self.conv(torch.tanh(self.tdnn(a))), 2)
        mean, var = weighted_mean_var(x, w, 2)
        return mean_and_std(mean, var)


@body("ecapa")
class EcapaBody(nn.Module):
    """ref: models/ecapa.cpp EcapaBodyImpl. [B, rows, T] -> [B, embedding_dim]

    >>> c = model_config({"type": "ecapa", "channels": [16, 16, 16, 16, 48], "res2net_scale": 4})
    >>> EcapaBody(c, 64)(torch.rand(2, 64, 50)).shape
    torch.Size([2, 192])
    """

    def __init__(self, cfg, rows):
        super().__init__()
        c = cfg["channels"]
        self.front = TdnnBlock(rows, c[0], 5, 1)
        aggregated = 0
        for i, dilation in zip(range(1, 4), (2, 3, 4)):
            self.add_module(f"block{i}", SERes2NetBlock(c[i - 1], c[i], cfg["res2net_scale"],
                                                        cfg["se_channels"], 3, dilation))
            aggregated += c[i]
        self.mfa = TdnnBlock(aggregated, c[4], 1, 1)
        self.asp = AttentiveStatisticsPooling(c[4], cfg["attention_channels"],
                                              cfg["global_context"])
        self.asp_bn = nn.BatchNorm1d(2 * c[4])
        self.fc = nn.Linear(2 * c[4], cfg["embedding_dim"])
        self.out_features = cfg["embedding_dim"]

    def forward(self, x):
        h = self.front(x)
        outs = []
        for i in range(1, 4):
            h = getattr(self, f"block{i}")(h)
            outs.append(h)
        h = self.asp(self.mfa(torch.cat(outs, 1)))
        if self.training and h.size(0) == 1:  # as the C++: running statistics for one example
            self.asp_bn.eval()
            h = self.asp_bn(h)
            self.asp_bn.train()
        else:
            h = self.asp_bn(h)
        return self.fc(h)


@body("ge2e")
class Ge2eBody(nn.Module):
    """ref: models/ge2e.cpp Ge2eBodyImpl (resemblyzer's VoiceEncoder.forward): log-mel in dB ->
    power -> stacked LSTM -> the last layer's final hidden state -> linear -> ReLU -> L2 norm.
    The input is not normalised (NetImpl: resemblyzer's weights saw raw mel power).
    [B, rows, T] -> [B, embedding_dim]

    >>> g = Ge2eBody(model_config({"type": "ge2e", "hidden_size": 8, "embedding_dim": 6}), 40)
    >>> e = g(torch.rand(2, 40, 30));  e.shape, bool(torch.allclose(e.norm(dim=1), torch.ones(2)))
    (torch.Size([2, 6]), True)
    """

    normalize_input = False

    def __init__(self, cfg, rows):
        super().__init__()
        self.lstm = nn.LSTM(rows, cfg["hidden_size"], num_layers=cfg["num_layers"],
                            batch_first=True)
        self.linear = nn.Linear(cfg["hidden_size"], cfg["embedding_dim"])
        self.out_features = cfg["embedding_dim"]

    def forward(self, x):
        mels = torch.pow(10.0, x / 10.0).transpose(1, 2)  # [B, T, n_mels], power
        _, (hidden, _) = self.lstm(mels)  # [layers, B, hidden]
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / raw.norm(2, 1, keepdim=True).clamp_min(1e-12)


def sinusoidal_positions(frames, d):
    """ref: models/transformer.cpp sinusoidal_positions (ESPnet's PositionalEncoding):
    pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(...). [frames, d] float32"""
    pos = torch.arange(frames, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(frames, d)
    pe[:, 0::2] = torch.sin(pos * rate)
    pe[:, 1::2] = torch.cos(pos * rate)[:, :d // 2]  # odd d: one cosine column fewer
    return pe


class ConvSubsampling(nn.Module):
    """ref: models/transformer.cpp ConvSubsamplingImpl: two conv 3x3 stride 2 (padding 1) with
    ReLU over [time, rows], then each frame's channels x bands projected to d_model.
    [B, rows, T] -> [B, ceil(ceil(T/2)/2), d_model]

    >>> ConvSubsampling(80, 16, 8)(torch.rand(2, 80, 301)).shape
    torch.Size([2, 76, 16])
    """

    def __init__(self, rows, d_model, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.out = nn.Linear(channels * self.frames(rows), d_model)

    @staticmethod
    def frames(t):
        """ref: ConvSubsamplingImpl::frames: the length after both convolutions"""
        return ((t + 1) // 2 + 1) // 2

    def forward(self, x):
        h = torch.relu(self.conv1(x.transpose(1, 2).unsqueeze(1)))  # [B, C, T/2, rows/2]
        h = torch.relu(self.conv2(h))
        return self.out(h.transpose(1, 2).flatten(2))


class SelfAttention(nn.Module):
    """ref: models/transformer.cpp SelfAttentionImpl: multi-head softmax(q k^T / sqrt(d_head)) v,
    then the output projection. [B, T, d] -> [B, T, d]"""

    def __init__(self, d_model, heads, dropout):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        w = self.dropout(torch.softmax(scores, -1))
        return self.out(torch.matmul(w, v).transpose(1, 2).reshape(b, t, d))


class EncoderBlock(nn.Module):
    """ref: models/transformer.cpp EncoderBlockImpl (pre-norm): x + drop(att(ln1(x))), then
    + drop(ff2(drop(gelu(ff1(ln2(.)))))). [B, T, d] -> [B, T, d]"""

    def __init__(self, d_model, heads, ff_dim, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attention = SelfAttention(d_model, heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, ff_dim)
        self.ff2 = nn.Linear(ff_dim, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        h = x + self.dropout(self.attention(self.ln1(x)))
        return h + self.dropout(self.ff2(self.dropout(F.gelu(self.ff1(self.ln2(h))))))


@body("transformer")
class TransformerBody(nn.Module):
    """ref: models/transformer.cpp TransformerBodyImpl: subsampling -> x sqrt(d_model) +
    positions (a learned cls token first for pooling = "cls") -> dropout -> blocks -> layer
    norm -> pooling (cls, mean, attentive_stats). [B, rows, T] -> [B, out_features]

    >>> c = model_config({"type": "transformer", "layers": 2, "d_model": 16, "heads": 2,
    ...                   "ff_dim": 32, "pooling": "attentive_stats"})
    >>> TransformerBody(c, 64)(torch.rand(2, 64, 101)).shape
    torch.Size([2, 32])
    """

    def __init__(self, cfg, rows):
        super().__init__()
        d = cfg["d_model"]
        self.d_model, self.pooling, self.n_blocks = d, cfg["pooling"], cfg["layers"]
        self.subsample = ConvSubsampling(rows, d, cfg["subsampling_channels"] or d)
        if self.pooling == "cls":
            self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.dropout = nn.Dropout(cfg["dropout"])
        for i in range(self.n_blocks):
            self.add_module(f"block{i}", EncoderBlock(d, cfg["heads"], cfg["ff_dim"],
                                                      cfg["dropout"]))
        self.norm = nn.LayerNorm(d)
        if self.pooling == "attentive_stats":
            self.asp = AttentiveStatisticsPooling(d, cfg["attention_channels"],
                                                  cfg["global_context"])
        self.out_features = 2 * d if self.pooling == "attentive_stats" else d

    def encode(self, x):
        """The frames after the last block and its norm: [B, T' (+1 with cls), d_model]"""
        h = self.subsample(x)
        h = h * math.sqrt(self.d_model) + sinusoidal_positions(h.size(1), self.d_model).to(h)
        if self.pooling == "cls":
            h = torch.cat([self.cls.to(h.dtype).expand(h.size(0), 1, -1), h], 1)
        h = self.dropout(h)
        for i in range(self.n_blocks):
            h = getattr(self, f"block{i}")(h)
        return self.norm(h)

    def forward(self, x):
        h = self.encode(x)
        if self.pooling == "cls":
            return h[:, 0]
        if self.pooling == "attentive_stats":
            return self.asp(h.transpose(1, 2))
        return h.mean(1)


ENCODER_EXPECTED = ("expected forward(waveforms [B, T] float32, lengths [B] int64) -> a list of "
                    "hidden states [B, frames, D], one per layer (scripts/export_encoder.py)")


def encoder_hidden_states(encoder, waves, path):
    """ref: models/pretrained.cpp encoder_hidden_states: the list of [B, frames, D] the file's
    forward(waves [B, T], lengths [B]) returns (or the first element of a tuple)."""
    lengths = torch.full((waves.size(0),), waves.size(1), dtype=torch.int64, device=waves.device)
    out = encoder(waves, lengths)
    hs = out[0] if isinstance(out, tuple) and len(out) > 0 else out
    if not isinstance(hs, list) or not hs or not all(torch.is_tensor(h) for h in hs):
        raise ValueError(f"encoder '{path}' returned {type(out).__name__}: {ENCODER_EXPECTED}")
    for i, h in enumerate(hs):
        if h.dim() != 3 or h.shape != hs[0].shape:
            raise ValueError(f"encoder '{path}': hidden state {i} is {list(h.shape)} (the first "
                             f"{list(hs[0].shape)}): {ENCODER_EXPECTED}")
    return hs


def load_encoder(path):
    """ref: models/pretrained.cpp load_encoder: the TorchScript file (torch.jit.load, on the CPU)
    with its sample_rate (16000), number of layers and width checked on one second of silence.
    Returns (module, layers, hidden)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"cannot read encoder '{path}' (model.encoder): no such file; "
                                "scripts/export_encoder.py makes one from a checkpoint")
    try:
        m = torch.jit.load(path, map_location="cpu")
    except RuntimeError as e:
        raise ValueError(f"encoder '{path}' is not a TorchScript module ({e})") from None
    rate = getattr(m, "sample_rate", None)
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise ValueError(f"encoder '{path}' has no integer attribute sample_rate: expected "
                         f"{ENCODER_SAMPLE_RATE}")
    if rate != ENCODER_SAMPLE_RATE:
        raise ValueError(f"encoder '{path}' takes audio at {rate} Hz; expected an encoder of "
                         f"{ENCODER_SAMPLE_RATE} Hz waveforms")
    training = m.training
    m.eval()
    with torch.no_grad():
        hs = encoder_hidden_states(m, torch.zeros(1, ENCODER_SAMPLE_RATE), path)
    m.train(training)
    return m, len(hs), hs[0].size(2)


def share_script_tensors(holder, script, what):
    """Registers the TorchScript module's parameters and buffers on `holder` under their names
    with dots as "_" (the C++ names, models/pretrained.cpp and ge2e.cpp); returns the slots
    (holder name, script submodule, its attribute, is a parameter) that bind_script_tensors
    points back at the holder's tensors."""
    slots = []
    for kind, items in (("p", script.named_parameters()), ("b", script.named_buffers())):
        for name, t in items:
            flat = name.replace(".", "_")
            if hasattr(holder, flat):
                raise ValueError(f"{what}: two tensors named '{flat}' once dots are '_'")
            *where, leaf = name.split(".")
            owner = script
            for part in where:
                owner = getattr(owner, part)
            if kind == "p":
                holder.register_parameter(flat, nn.Parameter(t.detach(), t.requires_grad))
            else:
                holder.register_buffer(flat, t)
            slots.append((flat, owner, leaf, kind == "p"))
    return slots


def bind_script_tensors(holder, slots):
    """Makes the TorchScript module compute with `holder`'s tensors (again after .to())."""
    for flat, owner, leaf, is_param in slots:
        table = owner._parameters if is_param else owner._buffers
        table[leaf] = getattr(holder, flat)


@body("torchscript")
class TorchScriptBody(nn.Module):
    """ref: models/ge2e.cpp TorchScriptBodyImpl: a speaker encoder saved by torch.jit.save
    (cfg["weights"]) mapping [B, rows, T] to [B, D], its input as it is (not normalised); its
    tensors are this module's, named with dots as "_", and shared with the TorchScript module."""

    normalize_input = False

    def __init__(self, cfg, rows):
        super().__init__()
        self.path = cfg["weights"]
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"model.weights = '{self.path}': no such file")
        try:
            script = torch.jit.load(self.path, map_location="cpu")
        except RuntimeError as e:
            raise ValueError(f"model.weights = '{self.path}': not a TorchScript module "
                             f"(torch.jit.save): {e}") from None
        object.__setattr__(self, "script", script)  # not a child: its tensors are this module's
        self._slots = share_script_tensors(self, script, f"model.weights = '{self.path}'")
        bind_script_tensors(self, self._slots)
        script.eval()
        with torch.no_grad():
            y = script(torch.zeros(2, rows, 16))
        if y.dim() != 2 or y.size(0) != 2:
            raise ValueError(f"model.weights = '{self.path}': its forward gives "
                             f"{list(y.shape)} for a [2, {rows}, 16] batch, not [2, D]")
        self.out_features = y.size(1)
        script.train()

    def _apply(self, fn):
        super()._apply(fn)
        bind_script_tensors(self, self._slots)
        return self

    def train(self, mode=True):
        super().train(mode)
        self.script.train(mode)
        return self

    def forward(self, x):
        return self.script(x)


@body("pretrained")
class PretrainedBody(nn.Module):
    """ref: models/pretrained.cpp PretrainedBodyImpl: waveforms [B, 1, T] (16 kHz, not
    normalised) -> the TorchScript encoder's hidden states -> softmax(layer_weights)-weighted sum
    (cfg["encoder_layer"] = -1) or one layer -> pooling (mean, attentive_stats) -> [B, F].

    The file cfg["encoder"] (relative to the working folder, as for `hptrain predict`) gives the
    encoder's code; its tensors are registered under the child "encoder" with dots as "_" (the
    C++ names) and shared with the TorchScript module, so a checkpoint loaded into this module
    is what the encoder computes with.

    >>> c = model_config({"type": "pretrained", "encoder": "tests/data/encoders/tiny_wav2vec2.pt"})
    >>> PretrainedBody(c, 1)(torch.rand(2, 1, 16000)).shape  # doctest: +SKIP
    torch.Size([2, 32])
    """

    normalize_input = False

    def __init__(self, cfg, rows):
        super().__init__()
        self.path = cfg["encoder"]
        script, self.n_layers, hidden = load_encoder(self.path)
        object.__setattr__(self, "script", script)  # not a child: its tensors are "encoder"'s
        self.layer, self.pooling = cfg["encoder_layer"], cfg["pooling"]
        if self.layer >= self.n_layers:
            raise ValueError(f"model.layers = {self.layer}: encoder '{self.path}' returns "
                             f"{self.n_layers} layers (indices 0 to {self.n_layers - 1})")
        self.encoder = nn.Module()
        self._slots = share_script_tensors(self.encoder, script, f"encoder '{self.path}'")
        self._bind()
        if self.layer < 0:
            self.layer_weights = nn.Parameter(torch.zeros(self.n_layers))
        if self.pooling == "attentive_stats":
            self.asp = AttentiveStatisticsPooling(hidden, cfg["attention_channels"],
                                                  cfg["global_context"])
        self.out_features = 2 * hidden if self.pooling == "attentive_stats" else hidden

    def _bind(self):
        """Points the TorchScript module's slots at this module's tensors (again after .to())."""
        bind_script_tensors(self.encoder, self._slots)

    def _apply(self, fn):
        super()._apply(fn)
        self._bind()
        return self

    def train(self, mode=True):
        super().train(mode)
        self.script.train(mode)
        return self

    def forward(self, x):
        hs = encoder_hidden_states(self.script, x[:, 0], self.path)
        if self.layer >= 0:
            h = hs[self.layer]
        else:  # ref: s3prl Featurizer._weighted_sum (without its layer norm)
            w = torch.softmax(self.layer_weights, 0).to(hs[0].dtype)
            h = (torch.stack(hs, 0) * w.view(-1, 1, 1, 1)).sum(0)
        if self.pooling == "attentive_stats":
            return self.asp(h.transpose(1, 2))
        return h.mean(1)


class AdditiveAngularMargin(nn.Module):
    """ref: models/margin.cpp: the margin head's weight [classes, in]; without targets (as
    predict calls it) the logits are scale * cos(x, w)."""

    def __init__(self, in_features, classes, margin, scale, easy_margin):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(classes, in_features))
        nn.init.xavier_uniform_(self.weight)
        self.margin, self.scale, self.easy_margin = margin, scale, easy_margin

    def forward(self, x, target=None):
        cos = F.linear(F.normalize(x.float(), dim=1), F.normalize(self.weight.float(), dim=1))
        if target is None:
            return cos * self.scale
        m = self.margin
        cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
        sin = (1 - cos * cos).sqrt()
        phi = cos * math.cos(m) - sin * math.sin(m)
        if self.easy_margin:
            phi = torch.where(cos > 0, phi, cos)
        else:
            th = math.cos(math.pi - m)
            phi = torch.where(cos > th, phi, cos - (1 + th))
        one_hot = torch.zeros_like(cos).scatter_(1, target.reshape(-1, 1), 1.0)
        return (one_hot * phi + (1 - one_hot) * cos) * self.scale


class Net(nn.Module):
    """ref: models/net.cpp NetImpl: (x - input_mean) * input_inv_std (unless the body's
    normalize_input is False) -> body -> dropout -> one head per task (linear, or the margin
    head for cfg["loss_task"] when loss = "aam").

    >>> net = Net(model_config({"channels": [4, 8]}), 64, [3, 2]).eval()
    >>> [t.shape for t in net(torch.rand(5, 64, 101))]
    [torch.Size([5, 3]), torch.Size([5, 2])]
    """

    def __init__(self, cfg, rows, classes, tasks=None):
        super().__init__()
        if cfg["type"] not in BODIES:
            raise ValueError(f"model.type = '{cfg['type']}': this hptrain package knows "
                             f"{', '.join(sorted(BODIES))}")
        self.register_buffer("input_mean", torch.zeros(1, rows, 1))
        self.register_buffer("input_inv_std", torch.ones(1, rows, 1))
        self.body = BODIES[cfg["type"]](cfg, rows)
        self.normalize = getattr(self.body, "normalize_input", True)
        self.margin_task = -1
        if cfg["loss"] == "aam":
            tasks = list(tasks or [])
            if cfg["loss_task"] not in tasks:
                raise ValueError(f"model.loss_task = '{cfg['loss_task']}': not one of the run's "
                                 f"tasks ({', '.join(tasks)})")
            self.margin_task = tasks.index(cfg["loss_task"])
        self.dropout = nn.Dropout(cfg["dropout"])
        self.n_heads = len(classes)
        for t, k in enumerate(classes):
            if t == self.margin_task:
                head = AdditiveAngularMargin(self.body.out_features, k, cfg["margin"],
                                             cfg["scale"], cfg["easy_margin"])
            else:
                head = nn.Linear(self.body.out_features, k)
            self.add_module(f"head{t}", head)

    def forward(self, x):
        if x.dim() != 3 or x.size(1) != self.input_mean.size(1) or x.size(2) < 1:
            raise ValueError(f"model input: expected [B, {self.input_mean.size(1)}, T >= 1], "
                             f"got {list(x.shape)}")
        if self.normalize:
            x = (x - self.input_mean) * self.input_inv_std
        f = self.dropout(self.body(x))
        return [getattr(self, f"head{t}")(f) for t in range(self.n_heads)]
