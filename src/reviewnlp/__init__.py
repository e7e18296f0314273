"""reviewnlp: find recommendations in review reports, align them to government responses, classify the answer."""
__version__ = "0.1.0"
