"""Embedding backends on the real model: OpenVINO against the torch fp32 reference, ids, caches, the IR build."""
import os
import threading

import numpy as np
import pytest

from reviewnlp.embed import (MODEL_ID, MODEL_NAME, MiniLMEmbedder, OpenVINOEmbedder, embedder_for, load_vectors,
                             make_embedder, save_vectors)
from reviewnlp.errors import ModelMismatchError, ReviewNLPError
from reviewnlp.index import VectorIndex, load_index
from reviewnlp.lexical import BM25, texts_key

SENTENCES = [
    "Provide £9 million for a training and support offer which all kinship carers will be able to access.",
    "The Government rejected the recommendation that care experience become a protected characteristic.",
    "The CPS is currently reviewing and updating the media protocol with policing and media.",
    "We recommend that the Department publishes its plan by the end of 2025.",
    "Yes.",
    "",
    # Past 256 tokens: every backend must truncate where sentence-transformers does.
    " ".join(["The inquiry heard evidence from bereaved families about the handling of the pandemic."] * 30),
    "Ünïcode — “curly quotes”, 12.5% and £2.6 billion; HM Treasury’s response (p. 14).",
]


@pytest.fixture(scope="module")
def reference():
    return MiniLMEmbedder().encode(SENTENCES)


@pytest.mark.parametrize("backend", ["openvino", "openvino-f32"])
def test_backend_matches_torch_fp32(backend, reference):
    emb = make_embedder(backend)
    vecs = emb.encode(SENTENCES)
    assert vecs.shape == (len(SENTENCES), 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    cos = (vecs * reference).sum(axis=1)
    assert cos.min() >= 0.99, cos
    if backend == "openvino-f32":
        assert cos.min() >= 0.99999, cos
    # Same texts, same vectors; order of the output follows the input whatever the length sort did.
    assert np.array_equal(emb.encode(SENTENCES), vecs)
    single = np.stack([emb.encode([s])[0] for s in SENTENCES[:3]])
    assert ((single * reference[:3]).sum(axis=1) >= 0.99).all()


@pytest.mark.parametrize("backend", ["openvino", "openvino-f32"])
def test_a_texts_vector_does_not_depend_on_what_is_embedded_beside_it(backend):
    # The content-addressed cache hands back a vector embedded in another run, beside other texts: it must be
    # the bytes a cold run would compute (issue 22).
    emb = make_embedder(backend)
    texts = SENTENCES + [f"The Government will publish plan number {n} by the end of the year." for n in range(40)]
    together = emb.encode(texts)
    alone = np.stack([emb.encode([t])[0] for t in texts[::5]])
    shuffled = emb.encode(texts[::-3])
    assert together[::5].tobytes() == alone.tobytes()
    assert together[::-3].tobytes() == shuffled.tobytes()


def test_equal_length_batches_never_mix_lengths():
    from reviewnlp.embed import equal_length_batches

    lengths = np.array([5, 9, 5, 5, 9, 3, 5])
    batches = equal_length_batches(lengths, batch_size=2)
    assert [list(b) for b in batches] == [[1, 4], [0, 2], [3, 6], [5]]


def test_model_ids_name_backend_and_precision():
    import openvino as ov

    from reviewnlp.embed import native_precision

    ids = {b: make_embedder(b).model_id for b in ("openvino", "openvino-f32", "torch")}
    assert all(i.startswith(MODEL_NAME + "/") for i in ids.values()) and ids["torch"] not in (ids["openvino"],
                                                                                              ids["openvino-f32"])
    # The default runs at the precision OpenVINO picks for this CPU (its INFERENCE_PRECISION_HINT, the probe
    # the code uses): bf16 where the CPU has AVX512_BF16 or AMX, f32 on one without (an AVX2-only AMD EPYC).
    # There the two OpenVINO embedders are one model and share one id; with bf16 they differ.
    native = native_precision()
    assert native in {"bf16", "f32", "f16"}
    if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        assert native == "f32"  # a CPU without bf16 instructions never defaults to bf16
    assert ids["openvino"].endswith(f"-{native}") and ids["openvino-f32"].endswith("-f32")
    assert (ids["openvino"] == ids["openvino-f32"]) == (native == "f32")
    assert ids["torch"] == MODEL_ID and MODEL_ID.endswith("/torch-fp32")
    assert "/openvino-" in ids["openvino"]
    # The run summary's "embeddings:" line says which precision ran and why.
    said = make_embedder("openvino").describe()
    assert said.startswith(f"openvino {native} (")
    assert said.startswith(f"openvino {native} (this CPU has no bf16") == (native == "f32")
    forced = make_embedder("openvino-f32").describe()
    assert forced == (said if native == "f32" else "openvino f32 (forced by the openvino-f32 backend)")
    assert make_embedder("torch").describe() == "torch fp32 on the cpu"
    for model_id in ids.values():  # a run's id names an embedder that reproduces it
        assert embedder_for(model_id).model_id == model_id
    assert embedder_for("some/other-model") is None and embedder_for(None) is None


def test_default_backend_and_device_choice(monkeypatch):
    monkeypatch.delenv("REVIEWNLP_EMBED_BACKEND", raising=False)
    assert isinstance(make_embedder(), OpenVINOEmbedder)
    monkeypatch.setenv("REVIEWNLP_EMBED_BACKEND", "torch")
    assert isinstance(make_embedder(), MiniLMEmbedder)
    with pytest.raises(ReviewNLPError, match="runs on the CPU only"):
        make_embedder("openvino", "cuda")
    with pytest.raises(ReviewNLPError, match="unknown embedding backend"):
        make_embedder("onnx")


def test_cuda_runs_torch_or_says_at_once_that_there_is_no_gpu():
    import torch

    if torch.cuda.is_available():  # only torch runs on a GPU, and it must agree with the CPU reference
        emb = make_embedder(device="cuda")
        assert isinstance(emb, MiniLMEmbedder) and emb.model_id.endswith("/torch-cuda-fp32")
        cos = (emb.encode(SENTENCES[:3]) * MiniLMEmbedder().encode(SENTENCES[:3])).sum(axis=1)
        assert cos.min() >= 0.9999
        return
    with pytest.raises(ReviewNLPError, match="torch sees no CUDA GPU"):
        make_embedder(device="cuda")  # at construction: a run stops before extracting anything
    assert embedder_for(f"{MODEL_NAME}/torch-cuda-fp32") is None


def test_vectors_index_and_cache_refuse_another_backend(tmp_path, reference):
    from reviewnlp.batch import Cache
    from reviewnlp.pipeline import embed_segments
    from reviewnlp.records import Segment

    ov, torch_ = make_embedder("openvino"), make_embedder("torch")
    segs = [Segment(f"d:s{i}", "d", 0, len(t), t, 1, None) for i, t in enumerate(SENTENCES)]
    cache = Cache(tmp_path)
    vecs, new = embed_segments(segs, ov, cache)
    assert new == len(segs) and embed_segments(segs, ov, cache)[1] == 0
    again, new = embed_segments(segs, torch_, cache)  # another backend's cached vectors are not reused
    assert new == len(segs) and np.allclose(again, reference, atol=1e-5)
    save_vectors(tmp_path / "vectors.npy", [s.seg_id for s in segs], vecs, ov.model_id)
    with pytest.raises(ModelMismatchError, match="vectors were made with .*openvino"):
        load_vectors(tmp_path / "vectors.npy", expect_model=torch_.model_id)
    VectorIndex.build([s.seg_id for s in segs], vecs, ov.model_id).save(tmp_path / "index.faiss")
    with pytest.raises(ModelMismatchError, match="index was built with .*openvino.*, but this run uses .*torch-fp32"):
        load_index(tmp_path / "index.faiss", expect_model=torch_.model_id)


def test_ir_build_is_cached_and_safe_when_two_build_at_once(tmp_path, monkeypatch):
    from reviewnlp import ovmodel

    monkeypatch.setenv("REVIEWNLP_CACHE", str(tmp_path))
    calls = []

    def fake_convert(src, dest):  # the real conversion is exercised by every test above
        calls.append(dest)
        threading.Event().wait(0.3)
        (dest / ovmodel.IR_NAME).write_text("<net/>")

    monkeypatch.setattr(ovmodel, "_convert", fake_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ovmodel.ensure_ir())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1 and results[0].read_text() == "<net/>"
    assert results[0].parent.name.endswith(ovmodel.ir_dir().name[-16:])
    assert ovmodel.ensure_ir() == results[0] and len(calls) == 1
    leftovers = [p for p in results[0].parent.parent.iterdir() if p.name.startswith(".build-")]
    assert leftovers == []  # temp folders are removed, only the published model stays


def test_bm25_saved_and_loaded_gives_the_same_scores(tmp_path):
    texts = ["kinship carers allowance", "regional care cooperatives", "kinship", "the allowance for carers"]
    bm = BM25(texts)
    bm.save(tmp_path / "bm25.npz", texts_key(texts))
    back = BM25.load(tmp_path / "bm25.npz", texts_key(texts))
    for q in ("kinship allowance", "carers", "nothing here"):
        assert np.array_equal(back.scores(q), bm.scores(q))
    assert BM25.load(tmp_path / "bm25.npz", texts_key(texts[:3])) is None  # other segments: rebuilt by search
    assert BM25.load(tmp_path / "missing.npz", "k") is None
    os.truncate(tmp_path / "bm25.npz", 100)
    assert BM25.load(tmp_path / "bm25.npz", texts_key(texts)) is None  # torn file: a miss, not an error
