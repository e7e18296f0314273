"""reviewnlp: find recommendations in review reports, align them to government responses, classify the answer.

The API, imported lazily so that ``import reviewnlp`` (which every worker process does) loads no model::

    from reviewnlp import run, load_alignments, Searcher
"""
__version__ = "0.1.0"
__all__ = ["run", "load_alignments", "Searcher", "__version__"]

# name -> (module, attribute): the module is imported on first use of the name.
_LAZY = {"run": ("pipeline", "run"), "load_alignments": ("pipeline", "load_alignments"),
         "Searcher": ("search", "Searcher")}


def __getattr__(name: str):
    """Import an API name on first use (PEP 562)."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reviewnlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
