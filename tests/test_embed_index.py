"""The real MiniLM model and a real FAISS index (small inputs, so these run by default)."""
import numpy as np
import pytest

from reviewnlp.embed import MODEL_ID, load_vectors, save_vectors
from reviewnlp.errors import ModelMismatchError
from reviewnlp.index import VectorIndex, load_index

TEXTS = [
    "Provide £9 million for a training and support offer which all kinship carers will be able to access.",
    "Explore the case for mandating a financial allowance for kinship carers.",
    "Test the use of regional care cooperatives to plan, commission and deliver care places.",
    "The Government rejected the recommendation that care experience become a protected characteristic.",
    "The CPS is currently reviewing and updating the media protocol with policing and media.",
]


def test_real_model_vectors_are_unit_and_semantic(real_embedder):
    vecs = real_embedder.encode(TEXTS)
    assert vecs.shape == (5, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    q = real_embedder.encode(["financial support for kinship carers"])[0]
    sims = vecs @ q
    assert set(np.argsort(-sims)[:2]) == {0, 1}
    assert real_embedder.model_id.startswith(MODEL_ID.rsplit("/", 1)[0] + "/openvino-")  # the default backend


def test_real_index_search_save_load(tmp_path, real_embedder):
    vecs = real_embedder.encode(TEXTS)
    ids = [f"d:s{i}" for i in range(len(TEXTS))]
    idx = VectorIndex.build(ids, vecs, MODEL_ID)
    hits = idx.search(real_embedder.encode(["regional commissioning of placements"]), k=3)[0]
    assert hits[0][0] == "d:s2"
    idx.save(tmp_path / "index.faiss")
    back = load_index(tmp_path / "index.faiss", expect_model=MODEL_ID)
    assert back.ids == ids and back.index.ntotal == 5
    assert back.search(vecs[:1], k=1)[0][0][0] == "d:s0"


def test_index_and_vectors_refuse_other_model(tmp_path, fake_embedder):
    vecs = fake_embedder.encode(TEXTS)
    VectorIndex.build(["a", "b", "c", "d", "e"], vecs, fake_embedder.model_id).save(tmp_path / "index.faiss")
    with pytest.raises(ModelMismatchError, match="index was built with test/hashing-bow-64, but this run uses"):
        load_index(tmp_path / "index.faiss", expect_model=MODEL_ID)
    save_vectors(tmp_path / "vectors.npy", list("abcde"), vecs, fake_embedder.model_id)
    with pytest.raises(ModelMismatchError):
        load_vectors(tmp_path / "vectors.npy", expect_model=MODEL_ID)
    ids, back, model = load_vectors(tmp_path / "vectors.npy", expect_model=fake_embedder.model_id)
    assert ids == list("abcde") and np.array_equal(back, vecs)


def test_vector_cache_embeds_only_new_documents_and_is_keyed_by_model(tmp_path, fake_embedder):
    from reviewnlp.batch import Cache
    from reviewnlp.pipeline import embed_segments
    from reviewnlp.records import Segment

    calls = []

    class Counting:
        model_id, dim = fake_embedder.model_id, fake_embedder.dim

        def encode(self, texts):
            calls.append(list(texts))
            return fake_embedder.encode(texts)

    segs = [Segment(f"{d}:s{i}", d, 0, len(t), t, 1, None) for i, (d, t) in enumerate(zip("aabbb", TEXTS))]
    cache = Cache(tmp_path)
    v1, new1 = embed_segments(segs[:2], Counting(), cache)
    v2, new2 = embed_segments(segs, Counting(), cache)
    # Each document is embedded on its own, so its vectors do not depend on the other documents.
    assert (new1, new2) == (2, 3) and calls == [TEXTS[:2], TEXTS[2:]]
    assert np.array_equal(v2[:2], v1) and np.array_equal(v2, fake_embedder.encode(TEXTS))

    class Other(Counting):
        model_id = "another/model"

    _, new3 = embed_segments(segs, Other(), cache)
    assert new3 == 5  # vectors from another model are not reused


def test_ivf_index_recall_against_flat(tmp_path):
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(50, 64))
    data = centres[rng.integers(0, 50, 20000)] + 0.3 * rng.normal(size=(20000, 64))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"s{i}" for i in range(len(data))]
    flat = VectorIndex.build(ids, data, "m", kind="flat")
    ivf = VectorIndex.build(ids, data, "m", kind="ivf")
    assert type(ivf.index).__name__ == "IndexIVFFlat"
    queries = data[:50] + 0.05 * rng.normal(size=(50, 64)).astype(np.float32)
    exact = flat.search(queries, k=10)
    approx = ivf.search(queries, k=10)
    recall = np.mean([len({a for a, _ in x} & {b for b, _ in y}) / 10 for x, y in zip(exact, approx)])
    assert recall >= 0.9
    ivf.save(tmp_path / "ivf.faiss")
    back = load_index(tmp_path / "ivf.faiss", expect_model="m")
    assert back.index.nprobe == ivf.index.nprobe and back.search(queries[:1], k=10) == approx[:1]
    assert VectorIndex.build(ids[:10], data[:10], "m").index.__class__.__name__ == "IndexFlatIP"
