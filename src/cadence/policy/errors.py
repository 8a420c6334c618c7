"""Policy runtime exceptions (DEVELOPERS.md, "Errors": one base per subpackage)."""

from __future__ import annotations


class PolicyError(Exception):
    """Base class of policy runtime errors."""


class ManifestError(PolicyError):
    """A model manifest is missing, malformed, or does not describe its ONNX file."""


class ModelRejected(PolicyError):
    """A model file was refused before or while loading (unsafe format, tampered, wrong I/O)."""


class GoldenMismatch(ModelRejected):
    """The model's output on the manifest's golden input differs from the recorded output."""


class ProviderError(PolicyError):
    """No ONNX Runtime execution provider could create a session for the model."""


class ConfigError(PolicyError, ValueError):
    """A safety, playback or backup configuration value is invalid (the message names the key)."""


class ExportError(PolicyError):
    """A torch module could not be exported to a valid single-file ONNX model."""
