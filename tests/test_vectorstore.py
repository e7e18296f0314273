"""vectorstore: vectors addressed by (model, text); torn or foreign shards are misses, never errors."""
import json

import numpy as np
from hypothesis import given, settings, strategies as st

from reviewnlp.vectorstore import VectorStore, text_key


def _vecs(n, dim=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_vectors_come_back_by_text_in_any_order(tmp_path):
    store = VectorStore(tmp_path, "m/1", 4)
    keys = [text_key(t) for t in ("a", "b", "c")]
    v = _vecs(3)
    store.put(keys, v)
    fresh = VectorStore(tmp_path, "m/1", 4)  # another run reading what this one wrote
    got = fresh.get([keys[2], text_key("never embedded"), keys[0]])
    assert set(got) == {keys[2], keys[0]}
    assert got[keys[2]].tobytes() == v[2].tobytes() and got[keys[0]].tobytes() == v[0].tobytes()


def test_a_key_ending_in_nul_bytes_is_found(tmp_path):
    # numpy's fixed-width bytes drop trailing NULs; the store must still answer with the caller's key.
    key = b"\x07" * 30 + b"\x00\x00"
    store = VectorStore(tmp_path, "m/1", 4)
    store.put([key], _vecs(1))
    assert list(VectorStore(tmp_path, "m/1", 4).get([key])) == [key]


def test_another_models_vectors_are_never_returned(tmp_path):
    VectorStore(tmp_path, "m/1", 4).put([text_key("a")], _vecs(1))
    assert VectorStore(tmp_path, "m/2", 4).get([text_key("a")]) == {}
    # A folder whose model.json names another model (a digest collision, a hand edit) is not read either.
    store = VectorStore(tmp_path, "m/1", 4)
    (store.dir / "model.json").write_text(json.dumps({"model_id": "m/other", "dim": 4}))
    assert VectorStore(tmp_path, "m/1", 4).get([text_key("a")]) == {}


def test_torn_and_corrupt_shards_are_misses(tmp_path):
    store = VectorStore(tmp_path, "m/1", 4)
    good, torn, bad = text_key("good"), text_key("torn"), text_key("bad")
    store.put([good], _vecs(1))
    store.put([torn], _vecs(1, seed=1))
    store.put([bad], _vecs(1, seed=2))
    keys_files = sorted(store.dir.glob("*.keys.npy"))
    vec_of = {}
    for k in keys_files:
        vec_of[bytes(np.load(k)[0]).ljust(32, b"\0")] = k
    vec_of[torn].unlink()  # killed after the vectors, before the keys: the shard was never finished
    vec_of[bad].with_name(vec_of[bad].name.replace(".keys.", ".vecs.")).write_bytes(b"not a numpy file")
    got = VectorStore(tmp_path, "m/1", 4).get([good, torn, bad])
    assert list(got) == [good]


def test_two_writers_each_add_a_shard_and_both_are_read(tmp_path):
    a, b = VectorStore(tmp_path, "m/1", 4), VectorStore(tmp_path, "m/1", 4)
    a.put([text_key("x")], _vecs(1))
    b.put([text_key("y")], _vecs(1, seed=3))
    assert len(list((tmp_path / a.dir.name).glob("*.keys.npy"))) == 2
    assert set(VectorStore(tmp_path, "m/1", 4).get([text_key("x"), text_key("y")])) == {text_key("x"), text_key("y")}
    assert not list(tmp_path.rglob(".*.tmp"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=20, unique=True))
def test_whatever_the_texts_each_gets_back_its_own_vector(tmp_path_factory, texts):
    root = tmp_path_factory.mktemp("store")
    keys = [text_key(t) for t in texts]
    v = _vecs(len(texts), seed=len(texts))
    half = len(texts) // 2
    store = VectorStore(root, "m/1", 4)
    store.put(keys[:half], v[:half])
    store.put(keys[half:], v[half:])
    got = VectorStore(root, "m/1", 4).get(keys)
    assert all(got[k].tobytes() == v[i].tobytes() for i, k in enumerate(keys))
