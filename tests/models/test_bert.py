"""lmad's own BERT encoder and tokenizer against transformers, on the embedded all-MiniLM-L6-v2."""

import pytest
import torch

from lmad.models import AffordanceQueryModule
from lmad.models.bert import BertEncoderModel, BertTokenizer, can_load
from lmad.models.language_model import default_language_model_path, weights_fingerprint

transformers = pytest.importorskip("transformers")
TEXTS = ["grasp", "wrap_grasp".replace("_", " "), "where to sit", "pour the water out of it, carefully", "none"]


@pytest.fixture(scope="module")
def folder():
    return default_language_model_path()


def test_the_embedded_model_takes_the_fast_path(folder):
    assert can_load(folder)


def test_tokenizer_matches_transformers(folder):
    reference = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    for max_length in (64, 4):  # 4 cuts the longer texts: [SEP] must survive as in transformers
        ours = BertTokenizer(folder)(TEXTS, padding=True, truncation=True, max_length=max_length)
        theirs = reference(TEXTS, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        assert torch.equal(ours["input_ids"], theirs["input_ids"])
        assert torch.equal(ours["attention_mask"], theirs["attention_mask"])
    assert len(BertTokenizer(folder)) == len(reference) == 30522


def test_encoder_matches_transformers(folder):
    ours = BertEncoderModel.from_folder(folder).eval()
    theirs = transformers.BertModel.from_pretrained(str(folder), add_pooling_layer=False, local_files_only=True).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert weights_fingerprint(ours) == weights_fingerprint(theirs)  # shipped checkpoints record this
    tokens = BertTokenizer(folder)(TEXTS)
    with torch.no_grad():
        expected = theirs(**tokens).last_hidden_state
        states, _ = AffordanceQueryModule(ours, blocks=[]).eval().token_states(tokens["input_ids"],
                                                                               tokens["attention_mask"])
    real = tokens["attention_mask"].bool()
    assert torch.allclose(states[0][real], expected[real], atol=1e-5)
