"""The policy runtime (ROS-free; onnxruntime + onnx + numpy, never torch).

Modules (imported explicitly; this package stays light because the CLI imports it):
``observation`` (THE observation builder), ``manifest``, ``model`` (verified ONNX loading),
``runtime`` (``load_policy``), ``providers``, ``fastpath``, ``playback``, ``safety``, ``backup``,
``errors``; ``executor`` and ``mission`` (the executor's ROS-free control step and plan follower). See docs/policy.md.
"""
