"""A pure-Python STAND-IN for the exllamav2 package, for nerion's tests only (see ../README.md).

It implements just the API surface nerion's bridge uses and generates deterministic tokens without
any model weights. It is never shipped and never imported outside the tests.
"""

import json
import os

__version__ = "0.0.0+nerion.stand-in"


class SeqIds:
    """The little of a torch tensor of shape (1, n) that the bridge touches: .shape and the values."""

    def __init__(self, values):
        self.values = list(values)

    @property
    def shape(self):
        return (1, len(self.values))

    def tolist(self):
        return [list(self.values)]


class ExLlamaV2Config:
    def __init__(self, model_dir=None):
        self.model_dir = model_dir
        self.max_seq_len = 2048
        self.fail_load = False
        if model_dir is not None:
            self.prepare()

    def prepare(self):
        path = os.path.join(self.model_dir, "config.json")
        with open(path, "r", encoding="utf-8") as handle:  # FileNotFoundError, like the real one
            data = json.load(handle)
        self.max_seq_len = int(data.get("max_position_embeddings", 2048))
        self.fail_load = bool(data.get("nerion_stand_in_fail_load", False))

    def arch_compat_overrides(self):
        return None


class ExLlamaV2:
    def __init__(self, config):
        self.config = config
        self.loaded = False

    def load_autosplit(self, cache, progress=False, **kwargs):
        if self.config.fail_load:
            raise RuntimeError("stand-in: simulated load failure (no CUDA device)")
        self.loaded = True

    def unload(self):
        self.loaded = False


class ExLlamaV2Cache:
    def __init__(self, model, max_seq_len=-1, lazy=False, **kwargs):
        self.model = model
        self.max_seq_len = max_seq_len if max_seq_len and max_seq_len > 0 else model.config.max_seq_len
        self.batch_size = 1


class ExLlamaV2Tokenizer:
    """Byte-level: ids 0-255 are bytes, 256 is BOS, 257 is EOS; generated word tokens are 300 and up."""

    bos_token_id = 256
    eos_token_id = 257

    def __init__(self, config, **kwargs):
        self.config = config

    def encode(self, text, add_bos=False, encode_special_tokens=False, **kwargs):
        ids = ([self.bos_token_id] if add_bos else []) + list(text.encode("utf-8"))
        return SeqIds(ids)
